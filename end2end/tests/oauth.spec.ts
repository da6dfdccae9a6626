// GitHub and Gitee through OAuth against the fake code hosts: popup, redirect fallback,
// confirm / cancel, denial, grants that cannot read repositories, a closed window, forged / replayed / foreign state,
// and the page framed by another origin.
import { expect, test, type Page } from '@playwright/test';
import { freshTenant, openPage, row, signIn, snap } from './helpers';
import { PORTS } from './env';

const FAKE = `http://127.0.0.1:${PORTS.fakeHttp}`;

async function openGitHubPopup(page: Page) {
  await row(page, 'GitHub').getByRole('button', { name: 'Bind GitHub' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind GitHub account' });
  await expect(dialog).toContainText('repo (the build service must read your private repositories');
  const popupPromise = page.waitForEvent('popup');
  await dialog.getByRole('button', { name: 'Continue to GitHub' }).click();
  const popup = await popupPromise;
  await expect(popup.getByRole('heading', { name: 'Authorize CodeSource' })).toBeVisible();
  await expect(dialog.getByText('Waiting for the authorization in the GitHub window…')).toBeVisible();
  return { dialog, popup };
}

test.beforeEach(async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
});

test('binds GitHub through the popup after confirming the account', async ({ page }) => {
  const { popup } = await openGitHubPopup(page);
  await snap(page, 'github-waiting-en');
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('octo-alice');
  await expect(confirm).toContainText('Octo Alice');
  await expect(confirm).toContainText('repo, read:user');
  await snap(page, 'github-confirm-en');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitHub').getByText('Bound', { exact: true })).toBeVisible();
  await expect(row(page, 'GitHub')).toContainText('octo-alice');
  expect(await page.content()).not.toContain('gho_');

  await row(page, 'GitHub').getByRole('button', { name: 'Unbind GitHub' }).click();
  const unbind = page.getByRole('dialog', { name: 'Unbind GitHub account' });
  await expect(unbind).toContainText('The authorization is revoked on GitHub as well.');
  await unbind.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('GitHub account unbound, and its token revoked on GitHub.')).toBeVisible();
  await expect(row(page, 'GitHub').getByText('Not bound', { exact: true })).toBeVisible();
});

test('shows progress while the authorized account is fetched', async ({ page }) => {
  // Slow our own server's answer down so the step is visible.
  await page.route('**/api/code-sources/pending', async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  const { dialog, popup } = await openGitHubPopup(page);
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  await expect(dialog.getByRole('status')).toHaveText('Authorized at GitHub. Getting the account…');
  await expect(dialog.getByRole('button', { name: 'Continue to GitHub' })).toBeDisabled();
  await expect(page.getByRole('dialog', { name: 'Confirm the account to bind' })).toContainText('octo-alice');
});

test('binds Gitee through a full-page redirect when popups are blocked', async ({ page }) => {
  await page.addInitScript(() => {
    window.open = () => null;
  });
  await page.reload();
  await openPage(page, page.url());
  await row(page, 'Gitee').getByRole('button', { name: 'Bind Gitee' }).click();
  await page.getByRole('dialog', { name: 'Bind Gitee account' }).getByRole('button', { name: 'Continue to Gitee' }).click();
  await expect(page.getByRole('heading', { name: '授权 CodeSource' })).toBeVisible();
  await page.getByRole('link', { name: '同意授权' }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('gitee-bob');
  await expect(page).not.toHaveURL(/pending=/);
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'Gitee')).toContainText('gitee-bob');
  await page.reload();
  await expect(row(page, 'Gitee')).toContainText('gitee-bob');
});

test('Cancel on the confirm step stores nothing', async ({ page }) => {
  const { popup } = await openGitHubPopup(page);
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await page.reload();
  await expect(row(page, 'GitHub').getByText('Not bound', { exact: true })).toBeVisible();
});

test('a denial at GitHub is reported and nothing is bound', async ({ page }) => {
  const { dialog, popup } = await openGitHubPopup(page);
  await popup.getByRole('link', { name: 'Cancel' }).click();
  await expect(dialog.getByRole('alert')).toContainText('The authorization was declined.');
  await snap(page, 'github-denied-en');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitHub').getByText('Not bound', { exact: true })).toBeVisible();
});

test('a grant that cannot read repositories is refused, naming the scope', async ({ page }) => {
  const { dialog, popup } = await openGitHubPopup(page);
  await popup.getByRole('link', { name: 'Authorize without repo' }).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('The token cannot read repositories.');
  await expect(alert).toContainText('It lacks: repo.');
  await expect(alert).toContainText('authorize again and grant them');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitHub').getByText('Not bound', { exact: true })).toBeVisible();
});

test('closing the window before finishing leaves the table usable', async ({ page }) => {
  const { dialog, popup } = await openGitHubPopup(page);
  await popup.close();
  await expect(dialog.getByRole('alert')).toContainText('The authorization window was closed before it finished.');
  await expect(dialog.getByRole('button', { name: 'Continue to GitHub' })).toBeEnabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitHub').getByRole('button', { name: 'Bind GitHub' })).toBeEnabled();
});

test('forged and replayed state are rejected', async ({ page, context }) => {
  await page.goto('/oauth/github/callback?code=forged&state=forged-state');
  const dialog = page.getByRole('dialog', { name: 'Bind GitHub account' });
  await expect(dialog.getByRole('alert')).toContainText('This authorization could not be matched to your session.');
  await snap(page, 'github-state-error-en');

  const callbacks: string[] = [];
  context.on('request', (r) => r.url().includes('/oauth/github/callback') && callbacks.push(r.url()));
  await openPage(page);
  const { popup } = await openGitHubPopup(page);
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Confirm the account to bind' })).toBeVisible();
  expect(callbacks).toHaveLength(1);
  await page.goto(callbacks[0]);
  await expect(page.getByRole('dialog', { name: 'Bind GitHub account' }).getByRole('alert')).toContainText('could not be matched');
});

test("a flow started by tenant A cannot be completed as tenant B", async ({ page, context }, info) => {
  const start = await context.request.get('/oauth/github/start?mode=redirect', { maxRedirects: 0 });
  expect(start.status()).toBe(303);
  const decided = await context.request.get(`${start.headers()['location']}&decision=approve`, { maxRedirects: 0 });
  const callback = decided.headers()['location'];
  expect(callback).toContain('/oauth/github/callback?code=');
  await signIn(context, freshTenant(info));
  await page.goto(callback);
  await expect(page.getByRole('dialog', { name: 'Bind GitHub account' }).getByRole('alert')).toContainText('could not be matched');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitHub').getByText('Not bound', { exact: true })).toBeVisible();
});

test('embedded in an iframe of another origin, binds through the popup', async ({ page }) => {
  await page.goto(`${FAKE}/embed?src=${encodeURIComponent(`http://127.0.0.1:${PORTS.identity}/`)}`);
  const frame = page.frameLocator('iframe');
  const bind = frame.getByRole('button', { name: 'Bind GitHub' });
  await expect(bind).toBeEnabled();
  await bind.click();
  const popupPromise = page.waitForEvent('popup');
  await frame.getByRole('button', { name: 'Continue to GitHub' }).click();
  const popup = await popupPromise;
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  const confirm = frame.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('octo-alice');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(frame.getByRole('row').filter({ hasText: 'octo-alice' })).toBeVisible();
  // The console hears about it, and sizes the iframe to the content.
  type Msg = { type: string; provider?: string; bound?: boolean; height?: number };
  const messages = () => page.evaluate(() => (window as unknown as { __messages: Msg[] }).__messages);
  await expect
    .poll(async () => (await messages()).some((m) => m.type === 'codesource:binding-changed' && m.provider === 'github' && m.bound))
    .toBe(true);
  const heights = (await messages()).filter((m) => m.type === 'codesource:height');
  expect(heights.length).toBeGreaterThan(0);
  const iframeHeight = await page.locator('iframe').evaluate((el) => (el as HTMLIFrameElement).style.height);
  expect(iframeHeight).toBe(`${heights[heights.length - 1].height}px`);
  await snap(page, 'embedded-en');
});
