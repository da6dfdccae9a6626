// Every way a GitLab check can fail shows its own message with what to do, and stores nothing.
import { expect, test } from '@playwright/test';
import { freshTenant, openPage, row, signIn, snap, submitGitLab } from './helpers';
import { FAKE_HTTP_BY_IP, FAKE_HTTP_BY_NAME } from './env';

const cases: Array<{ what: string; address: string | null; token: string; title: string; hint: RegExp }> = [
  { what: 'unknown token', address: null, token: 'glpat-fake-unknown', title: 'GitLab does not accept this token.', hint: /copied the whole token/ },
  { what: 'expired token', address: null, token: 'glpat-fake-expired', title: 'The token has expired.', hint: /Create a new personal access token/ },
  { what: 'revoked token', address: null, token: 'glpat-fake-revoked', title: 'The token has been revoked.', hint: /Create a new personal access token/ },
  { what: 'read_registry only', address: null, token: 'glpat-fake-registry', title: 'The token cannot read repositories.', hint: /scopes the bind dialog names/ },
  { what: 'read_user only', address: null, token: 'glpat-fake-readuser', title: 'The token cannot read repositories.', hint: /The token has: read_user/ },
  { what: 'rate limited', address: null, token: 'glpat-fake-ratelimit', title: 'GitLab is limiting requests right now.', hint: /Try again in 30 seconds/ },
  { what: 'not a GitLab', address: `${FAKE_HTTP_BY_IP}/not-gitlab`, token: 'glpat-fake-alice', title: 'The address does not answer like a GitLab server.', hint: /root address/ },
  { what: 'redirect', address: `${FAKE_HTTP_BY_IP}/redirect`, token: 'glpat-fake-alice', title: 'The address redirects elsewhere.', hint: /https:\/\// },
  { what: 'timeout', address: `${FAKE_HTTP_BY_IP}/slow`, token: 'glpat-fake-alice', title: 'GitLab did not answer in time.', hint: /firewall/ },
  { what: 'connection refused', address: 'http://127.0.0.1:1', token: 'glpat-fake-alice', title: 'The GitLab server refused the connection.', hint: /port/ },
  { what: 'unresolvable host', address: 'https://gitlab.nonexistent.invalid', token: 'glpat-fake-alice', title: 'The host name could not be resolved.', hint: /IP address/ },
  { what: 'cloud metadata address', address: 'http://169.254.169.254', token: 'glpat-fake-alice', title: 'This address is not allowed.', hint: /metadata/ },
  { what: 'malformed address', address: 'https://', token: 'glpat-fake-alice', title: 'The code source address is not valid.', hint: /host name or IP/ },
  { what: 'unsupported scheme', address: 'ftp://gitlab.example', token: 'glpat-fake-alice', title: 'Only http:// and https:// addresses are supported.', hint: /https:\/\// },
  { what: 'empty token', address: null, token: '', title: 'Enter the private token.', hint: /Paste the personal access token/ },
];

test('each failure class shows its own message, with progress while checking', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  for (const c of cases) {
    await test.step(c.what, async () => {
      await dialog.getByLabel('Code source address').fill(c.address ?? FAKE_HTTP_BY_NAME);
      await submitGitLab(page, null, c.token);
      const alert = dialog.getByRole('alert');
      await expect(alert.locator('.error-title')).toHaveText(c.title);
      await expect(alert.locator('.error-hint')).toHaveText(c.hint);
      await expect(dialog.getByRole('button', { name: 'OK' })).toBeEnabled();
      if (c.what === 'expired token') await snap(page, 'gitlab-error-en');
    });
  }
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
});

test('a slow GitLab shows progress and the dialog cannot be dismissed meanwhile', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await submitGitLab(page, `${FAKE_HTTP_BY_IP}/slow`, 'glpat-fake-alice');
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog.getByText('Checking the token with GitLab…')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'OK' })).toBeDisabled();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeVisible();
  await snap(page, 'gitlab-checking-en');
  await expect(dialog.getByRole('alert')).toContainText('GitLab did not answer in time.');
  await expect(dialog.getByText('Checking the token with GitLab…')).toBeHidden();
});
