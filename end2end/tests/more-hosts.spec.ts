// Bitbucket Cloud (OAuth, popup) and Gitea/Forgejo (address + personal access token) against
// the fake hosts: bind with confirmation, repositories, and unbinding where the host has no
// revocation API (the dialog says where to revoke it).
import { expect, test } from '@playwright/test';
import { freshTenant, openPage, row, signIn, snap } from './helpers';
import { PORTS } from './env';

const FAKE = `http://127.0.0.1:${PORTS.fakeHttp}`;

test.beforeEach(async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
});

test('the table lists the seed four, then Bitbucket and Gitea', async ({ page }) => {
  const names = await page.getByRole('rowheader').allInnerTexts();
  const order = ['DevCloud', 'GitHub', 'GitLab', 'Gitee', 'Bitbucket', 'Gitea'];
  const seen = order.map((n) => names.findIndex((t) => t.includes(n)));
  expect(seen.every((i) => i >= 0), names.join(' | ')).toBe(true);
  expect([...seen].sort((a, b) => a - b)).toEqual(seen);
});

test('binds Bitbucket through the popup, lists its repositories and unbinds', async ({ page }) => {
  await row(page, 'Bitbucket').getByRole('button', { name: 'Bind Bitbucket' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind Bitbucket account' });
  await expect(dialog).toContainText('as set on the Bitbucket OAuth consumer');
  const popupPromise = page.waitForEvent('popup');
  await dialog.getByRole('button', { name: 'Continue to Bitbucket' }).click();
  const popup = await popupPromise;
  await expect(popup.getByRole('heading', { name: 'Authorize CodeSource' })).toBeVisible();
  await popup.getByRole('link', { name: 'Grant access', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('bb-alice');
  await expect(confirm).toContainText('account, repository');
  await snap(page, 'bitbucket-confirm-en');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  const bitbucket = row(page, 'Bitbucket');
  await expect(bitbucket.getByText('Bound', { exact: true })).toBeVisible();
  expect(await page.content()).not.toContain('bitbucket-fake-access');

  await bitbucket.getByRole('button', { name: 'Repositories of Bitbucket' }).click();
  const repos = page.getByRole('dialog', { name: 'Bitbucket repositories of bb-alice' });
  const list = repos.getByRole('list', { name: 'Repositories' });
  await expect(list.locator(':scope > li')).toHaveCount(20);
  await repos.getByRole('button', { name: 'Next page' }).click();
  await expect(list.locator(':scope > li')).toHaveCount(5);
  await repos.getByRole('button', { name: 'Close' }).first().click();
  await expect(repos).toBeHidden();

  await bitbucket.getByRole('button', { name: 'Unbind Bitbucket' }).click();
  const unbind = page.getByRole('dialog', { name: 'Unbind Bitbucket account' });
  await expect(unbind).toContainText('Personal settings → App authorizations');
  await expect(unbind.getByRole('checkbox')).toHaveCount(0);
  await unbind.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('Bitbucket account unbound.')).toBeVisible();
  await expect(row(page, 'Bitbucket').getByText('Not bound', { exact: true })).toBeVisible();
});

test('binds a Gitea by address and token, with the whitelist hint, in both languages', async ({ page }) => {
  await row(page, 'Gitea').getByRole('button', { name: 'Bind Gitea' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind Gitea account' });
  // No public default: the user gives the instance, which the build nodes must reach.
  await expect(dialog.getByLabel('Code source address')).toHaveValue('');
  await expect(dialog).toContainText('read:repository');
  await dialog.getByLabel('Code source address').fill(`${FAKE}/gitea`);
  await expect(dialog.getByRole('heading', { name: 'Allow the build nodes on your private Gitea' })).toBeVisible();
  await dialog.getByLabel('Private token').fill('gitea-fake-user-only');
  await dialog.getByRole('button', { name: 'OK' }).click();
  await expect(dialog.getByRole('alert')).toContainText('The token cannot read repositories.');
  await snap(page, 'gitea-error-en');

  await dialog.getByLabel('Private token').fill('gitea-fake-alice');
  await dialog.getByRole('button', { name: 'OK' }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('gitea-alice');
  await expect(confirm).toContainText('read:user, read:repository');
  await expect(confirm).toContainText('Never');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  const gitea = row(page, 'Gitea');
  await expect(gitea.getByText('Bound', { exact: true })).toBeVisible();
  await expect(gitea).toContainText(`${FAKE}/gitea`);
  expect(await page.content()).not.toContain('gitea-fake-alice');

  // In Chinese: the unbind dialog says where to revoke the token, since Gitea cannot do it here.
  // (The toast sits over the language switch: dismiss it first.)
  await page.getByRole('status').getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: '中文' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await row(page, 'Gitea').getByRole('button', { name: '解绑 Gitea' }).click();
  const unbind = page.getByRole('dialog', { name: '解绑 Gitea 账号' });
  await expect(unbind).toContainText('Gitea 不支持在此撤销');
  await expect(unbind.getByRole('checkbox')).toHaveCount(0);
  await snap(page, 'gitea-unbind-zh');
  await unbind.getByRole('button', { name: '确定' }).click();
  await expect(page.getByText('Gitea 账号已解绑。')).toBeVisible();
});
