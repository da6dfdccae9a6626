// A binding the build service can no longer use shows why, and is re-authorized in place.
import { expect, test } from '@playwright/test';
import { freshTenant, openPage, row, signIn, snap } from './helpers';
import { SERVICE_TOKEN } from './env';

test('a binding that needs re-authorization says why and is fixed in place', async ({ page, context }, info) => {
  const tenant = freshTenant(info);
  await signIn(context, tenant);
  await openPage(page);
  // Bind Gitee with a refresh token the host has already revoked (redirect flow).
  const start = await context.request.get('/oauth/gitee/start?mode=redirect', { maxRedirects: 0 });
  const decided = await context.request.get(`${start.headers()['location']}&decision=approve-short-dead`, { maxRedirects: 0 });
  await page.goto(decided.headers()['location']);
  await page.getByRole('dialog', { name: 'Confirm the account to bind' }).getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'Gitee')).toContainText('gitee-bob');

  // The build service asks for a credential; Gitee refuses the refresh.
  const credential = await context.request.get(`/api/v1/tenants/${tenant}/code-sources/gitee/credential`, {
    headers: { Authorization: `Bearer ${SERVICE_TOKEN}` },
  });
  expect(credential.status()).toBe(409);

  await page.reload();
  const gitee = row(page, 'Gitee');
  await expect(gitee.getByText('Needs re-authorization', { exact: true })).toBeVisible();
  await expect(gitee).toContainText('The code host refused to renew the authorization (invalid_grant).');
  await snap(page, 'needs-reauth-en');

  await gitee.getByRole('button', { name: 'Re-authorize Gitee' }).click();
  const popupPromise = page.waitForEvent('popup');
  await page.getByRole('dialog', { name: 'Bind Gitee account' }).getByRole('button', { name: 'Continue to Gitee' }).click();
  const popup = await popupPromise;
  await popup.getByRole('link', { name: '同意授权' }).click();
  await page.getByRole('dialog', { name: 'Confirm the account to bind' }).getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'Gitee').getByText('Bound', { exact: true })).toBeVisible();
  await expect(row(page, 'Gitee')).not.toContainText('refused');
});
