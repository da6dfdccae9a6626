// Binding GitLab: the operator's default GitLab, a private one by IP (whitelist hint), a private
// CA, cancel, unbind, persistence across reloads, untrusted account data.
import { expect, test } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap, submitGitLab } from './helpers';
import { FAKE_HTTPS, FAKE_HTTP_BY_IP, FAKE_HTTP_BY_NAME } from './env';
import * as fs from 'fs';
import * as path from 'path';

test.beforeEach(async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
});

test('binds the default GitLab after showing the account, and keeps it after a reload', async ({ page }) => {
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog.getByLabel('Code source address')).toHaveValue(FAKE_HTTP_BY_NAME);
  await expect(dialog.getByLabel('Private token')).toHaveAttribute('type', 'password');
  await expect(dialog).toContainText('read_repository');
  await expect(dialog.getByRole('heading', { name: /Allow the build nodes/ })).toHaveCount(0);
  await snap(page, 'gitlab-dialog-en');

  await submitGitLab(page, null, 'glpat-fake-alice');
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('alice');
  await expect(confirm).toContainText('Alice Liddell');
  await expect(confirm).toContainText('read_repository, read_api');
  await expect(confirm).toContainText('2027-06-30');
  // The avatar is ours (fetched by the server), decorative (the login is next to it).
  const avatar = confirm.locator('img.avatar');
  await expect(avatar).toBeVisible();
  await expect(avatar).toHaveAttribute('alt', '');
  await expect(avatar).toHaveAttribute('src', /^\/avatars\/pending\/[0-9a-f]{32}\?v=/);
  await snap(page, 'gitlab-confirm-en');
  await confirm.getByRole('button', { name: 'Confirm' }).click();

  await expect(page.getByRole('status').getByText('GitLab account alice bound.')).toBeVisible();
  const gitlab = row(page, 'GitLab');
  await expect(gitlab.getByText('Bound', { exact: true })).toBeVisible();
  await expect(gitlab).toContainText('alice');
  await expect(gitlab).toContainText(FAKE_HTTP_BY_NAME);
  await expect(gitlab.getByRole('button', { name: 'Unbind GitLab' })).toBeFocused();
  await snap(page, 'table-bound-en');

  await page.reload();
  await expect(row(page, 'GitLab')).toContainText('alice');
  // The token never reaches the browser.
  expect(await page.content()).not.toContain('glpat-fake-alice');
});

test('a private GitLab by IP shows the build-node whitelist with copy buttons', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await dialog.getByLabel('Code source address').fill(FAKE_HTTP_BY_IP);
  await expect(dialog.getByRole('heading', { name: 'Allow the build nodes on your private GitLab' })).toBeVisible();
  await expect(dialog.getByRole('listitem')).toHaveText([/192\.0\.2\.0\/24/, /198\.51\.100\.0\/25/]);
  await dialog.getByRole('button', { name: 'Copy 192.0.2.0/24' }).click();
  await expect(dialog.getByRole('button', { name: 'Copy 192.0.2.0/24' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('192.0.2.0/24');
  await snap(page, 'gitlab-dialog-private-en');

  await submitGitLab(page, null, 'glpat-fake-bob');
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('Never');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab')).toContainText(FAKE_HTTP_BY_IP);
});

test('a private GitLab with its own CA: certificate error first, then bound with the CA', async ({ page }) => {
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await submitGitLab(page, FAKE_HTTPS, 'glpat-fake-alice');
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog.getByRole('alert')).toContainText("The GitLab server's HTTPS certificate could not be verified.");
  await expect(dialog.getByRole('alert')).toContainText('CA certificate');
  await dialog.getByLabel('My GitLab uses its own certificate authority').check();
  const ca = fs.readFileSync(path.resolve(__dirname, '../../server/fake-hosts/tls/ca.pem'), 'utf8');
  await dialog.getByLabel('CA certificate (optional, PEM)').fill(ca);
  await dialog.getByLabel('Private token').fill('glpat-fake-alice');
  await dialog.getByRole('button', { name: 'OK' }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab')).toContainText(FAKE_HTTPS);
});

test('Cancel on the confirm step stores nothing', async ({ page }) => {
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  const checked = page.waitForResponse((r) => r.url().endsWith('/api/code-sources/token/check'));
  await submitGitLab(page, null, 'glpat-fake-alice');
  const pendingId: string = (await (await checked).json()).id;
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  const cancelled = page.waitForResponse((r) => r.url().endsWith('/api/code-sources/cancel'));
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  // The server dropped the checked token (the call outlives the dialog): too late to confirm it.
  expect((await cancelled).status()).toBe(200);
  const late = await page.evaluate(async (id) => {
    const answer = await fetch('api/code-sources/confirm', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pending_id: id }),
    });
    return answer.status;
  }, pendingId);
  expect(late).toBe(410);
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  await page.reload();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
});

test('unbind asks for confirmation naming the account', async ({ page }) => {
  await bindGitLab(page, null, 'glpat-fake-alice');
  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Unbind GitLab account' });
  await expect(dialog).toContainText('alice');
  await snap(page, 'unbind-dialog-en');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitLab')).toContainText('alice');

  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('status').getByText('GitLab account unbound.')).toBeVisible();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  await page.reload();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();

  // The activity log shows both, newest first.
  await page.getByRole('button', { name: 'Show recent activity' }).click();
  const activity = page.getByRole('region', { name: 'Activity' }).getByRole('table');
  await expect(activity.getByRole('row')).toHaveCount(3);
  await expect(activity.getByRole('row').nth(1)).toContainText('Unbound');
  await expect(activity.getByRole('row').nth(2)).toContainText('Bound');
  await expect(activity.getByRole('row').nth(2)).toContainText('alice');
  await snap(page, 'activity-en');
});

test('unbind can also revoke the token on GitLab', async ({ page }) => {
  await bindGitLab(page, null, 'glpat-fake-bob');
  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Unbind GitLab account' });
  await dialog.getByLabel('Also revoke this token on GitLab').check();
  await snap(page, 'unbind-revoke-en');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('GitLab account unbound, and its token revoked on GitLab.')).toBeVisible();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
});

test('Escape closes the dialog and returns focus to Bind', async ({ page }) => {
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog.getByLabel('Code source address')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'Bind GitLab' })).toBeFocused();
});

test('account data from GitLab is shown as text, never as markup', async ({ page }) => {
  let alerted = false;
  page.on('dialog', async (d) => {
    alerted = true;
    await d.dismiss();
  });
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await submitGitLab(page, null, 'glpat-fake-evil');
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('<img src=x onerror=alert(1)>');
  await expect(confirm.locator('img')).toHaveCount(0);
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab')).toContainText('mallory');
  expect(alerted).toBe(false);
});
