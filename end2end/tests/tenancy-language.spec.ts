// Tenant isolation through the browser, and the language switch.
import { expect, test } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';
import { FAKE_HTTP_BY_IP } from './env';

test("tenant B never sees tenant A's binding", async ({ browser }, info) => {
  const a = await browser.newContext();
  const pageA = await a.newPage();
  await signIn(a, freshTenant(info));
  await openPage(pageA);
  await bindGitLab(pageA, null, 'glpat-fake-alice');

  const b = await browser.newContext();
  const pageB = await b.newPage();
  await signIn(b, freshTenant(info));
  await openPage(pageB);
  await expect(row(pageB, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  await expect(pageB.getByText('alice')).toHaveCount(0);
  await a.close();
  await b.close();
});

test('switches between English and Chinese and remembers the choice', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('代码源配置');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByRole('button', { name: '绑定 GitLab' })).toBeVisible();
  await expect(page.getByRole('button', { name: '中文' })).toHaveAttribute('aria-pressed', 'true');
  // The cookie is set by a server call; wait until the reload would see it.
  await expect.poll(async () => (await context.cookies()).find((c) => c.name === 'cs_lang')?.value).toBe('zh-CN');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('代码源配置');

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Code source configuration');
});

test.describe('in Chinese', () => {
  test.use({ locale: 'zh-CN' });

  test('Accept-Language picks Chinese; dialogs and errors are translated', async ({ page, context }, info) => {
    await signIn(context, freshTenant(info));
    await openPage(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('代码源配置');
    await expect(page.getByRole('columnheader')).toHaveText(['代码源', '状态', '绑定账号', '代码源地址', '绑定时间', '操作']);
    await snap(page, 'table-zh');
    await page.getByRole('button', { name: '绑定 GitLab' }).click();
    const dialog = page.getByRole('dialog', { name: '绑定 GitLab 账号' });
    await dialog.getByLabel('代码源地址').fill(FAKE_HTTP_BY_IP);
    await expect(dialog.getByRole('heading', { name: '在私有 GitLab 上放通构建节点' })).toBeVisible();
    await snap(page, 'gitlab-dialog-zh');
    await dialog.getByLabel('私有 Token').fill('glpat-fake-expired');
    await dialog.getByRole('button', { name: '确定' }).click();
    await expect(dialog.getByRole('alert')).toContainText('该 Token 已过期。');
    await snap(page, 'gitlab-error-zh');
    await dialog.getByLabel('私有 Token').fill('glpat-fake-alice');
    await dialog.getByRole('button', { name: '确定' }).click();
    const confirm = page.getByRole('dialog', { name: '确认要绑定的账号' });
    await expect(confirm).toContainText('alice');
    await snap(page, 'gitlab-confirm-zh');
    await confirm.getByRole('button', { name: '确定' }).click();
    await expect(row(page, 'GitLab').getByText('已绑定', { exact: true })).toBeVisible();
    await snap(page, 'table-bound-zh');
  });
});
