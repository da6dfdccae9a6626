// Accessibility and layout: axe-core finds no serious or critical violation on the table, every
// dialog and the activity view, in both languages and both themes; the GitLab bind works by
// keyboard alone (focus trapped in dialogs, Escape closes, focus returns); the page fits 320 px
// and 1440 px. Screenshots of each combination go to end2end/artifacts.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';

const TEXT = {
  en: {
    title: 'Code source configuration',
    bindGitLab: 'Bind GitLab',
    bindGitHub: 'Bind GitHub',
    unbindGitLab: 'Unbind GitLab',
    repos: 'Repositories of GitLab',
    activity: 'Show recent activity',
    ok: 'OK',
    confirm: 'Confirm',
    cancel: 'Cancel',
    token: 'Private token',
  },
  'zh-CN': {
    title: '代码源配置',
    bindGitLab: '绑定 GitLab',
    bindGitHub: '绑定 GitHub',
    unbindGitLab: '解绑 GitLab',
    repos: 'GitLab 的仓库',
    activity: '查看最近的操作记录',
    ok: '确定',
    confirm: '确定',
    cancel: '取消',
    token: '私有 Token',
  },
} as const;

/** axe on the whole document; only serious and critical findings fail the test. */
async function axe(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  expect(bad, `axe on ${what}`).toEqual([]);
}

for (const lang of ['en', 'zh-CN'] as const) {
  for (const theme of ['light', 'dark'] as const) {
    test(`axe: table, dialogs and activity (${lang}, ${theme})`, async ({ page, context }, info) => {
      const t = TEXT[lang];
      await signIn(context, freshTenant(info));
      await openPage(page, `/?lang=${lang}&theme=${theme}`);
      await expect(page.getByRole('heading', { name: t.title })).toBeVisible();
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      const tag = `${lang}-${theme}`;
      await axe(page, `table ${tag}`);

      // GitLab: the form, then its error, then the confirm step.
      await page.getByRole('button', { name: t.bindGitLab }).click();
      const form = page.getByRole('dialog');
      await form.getByLabel(t.token).fill('glpat-fake-revoked');
      await form.getByRole('button', { name: t.ok }).click();
      await expect(form.getByRole('alert')).toBeVisible();
      await axe(page, `GitLab dialog with an error ${tag}`);
      await snap(page, `a11y-gitlab-error-${tag}`);
      await form.getByRole('button', { name: t.cancel }).click();
      await bindGitLabIn(page, t);
      await axe(page, `table with a binding ${tag}`);

      await row(page, 'GitLab').getByRole('button', { name: t.repos }).click();
      await expect(page.getByRole('dialog').getByRole('list')).toBeVisible();
      await axe(page, `repositories ${tag}`);
      await page.keyboard.press('Escape');

      await row(page, 'GitLab').getByRole('button', { name: t.unbindGitLab }).click();
      await expect(page.getByRole('dialog')).toBeVisible();
      await axe(page, `unbind ${tag}`);
      await page.keyboard.press('Escape');

      await row(page, 'GitHub').getByRole('button', { name: t.bindGitHub }).click();
      await expect(page.getByRole('dialog')).toBeVisible();
      await axe(page, `OAuth ${tag}`);
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog')).toHaveCount(0);

      await page.getByRole('button', { name: t.activity }).click();
      await expect(page.getByRole('region', { name: /Activity|操作记录/ }).getByRole('table')).toBeVisible();
      await axe(page, `activity ${tag}`);
      await snap(page, `a11y-activity-${tag}`);
    });
  }
}

/** Bind + confirm with the current language's labels. */
async function bindGitLabIn(page: Page, t: (typeof TEXT)[keyof typeof TEXT]) {
  await page.getByRole('button', { name: t.bindGitLab }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel(t.token).fill('glpat-fake-alice');
  await form.getByRole('button', { name: t.ok }).click();
  const confirm = page.getByRole('dialog').filter({ hasText: 'alice' });
  await expect(confirm).toBeVisible();
  await axe(page, 'confirm dialog');
  await confirm.getByRole('button', { name: t.confirm }).click();
  await expect(row(page, 'GitLab').getByRole('button', { name: t.unbindGitLab })).toBeVisible();
}

test('binds GitLab by keyboard alone', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  const bind = page.getByRole('button', { name: 'Bind GitLab' });
  // Tab from the top of the page to the GitLab row's Bind button.
  await page.locator('body').focus();
  for (let i = 0; i < 30 && !(await bind.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(bind).toBeFocused();
  await page.keyboard.press('Enter');

  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog).toBeVisible();
  // Focus is inside the dialog and stays there: Tab and Shift+Tab cycle through it.
  const inside = () => dialog.evaluate((d) => d.contains(document.activeElement));
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await inside(), `Tab ${i} leaves the dialog`).toBe(true);
  }
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Shift+Tab');
    expect(await inside(), `Shift+Tab ${i} leaves the dialog`).toBe(true);
  }
  // Escape closes and gives focus back to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(bind).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  const token = dialog.getByLabel('Private token');
  for (let i = 0; i < 12 && !(await token.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(token).toBeFocused();
  await page.keyboard.type('glpat-fake-alice');
  await page.keyboard.press('Enter'); // submits the form
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('alice');
  const ok = confirm.getByRole('button', { name: 'Confirm' });
  for (let i = 0; i < 6 && !(await ok.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(ok).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row(page, 'GitLab').getByText('Bound', { exact: true })).toBeVisible();
  // Focus lands on the row's new action, not on <body>.
  await expect(row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' })).toBeFocused();
});

for (const [name, width] of [
  ['narrow', 320],
  ['wide', 1440],
] as const) {
  test(`fits ${width} px wide, light and dark, both languages`, async ({ page, context }, info) => {
    await page.setViewportSize({ width, height: 900 });
    await signIn(context, freshTenant(info));
    await openPage(page);
    await bindGitLab(page, null, 'glpat-fake-alice');
    for (const lang of ['en', 'zh-CN']) {
      for (const theme of ['light', 'dark']) {
        await openPage(page, `/?lang=${lang}&theme=${theme}`);
        // Nothing sticks out sideways: the page never scrolls horizontally.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${lang} ${theme}`).toBeLessThanOrEqual(0);
        await snap(page, `layout-${name}-${lang}-${theme}`);
      }
    }
    await openPage(page, '/?lang=en');
    await page.getByRole('button', { name: 'Unbind GitLab' }).click();
    const dialog = page.getByRole('dialog');
    const box = await dialog.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= width).toBe(true);
    await snap(page, `layout-${name}-dialog`, false);
  });
}
