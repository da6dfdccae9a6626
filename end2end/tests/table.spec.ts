// The code source table: rows, order, default DevCloud binding, unconfigured OAuth hosts.
import { expect, test } from '@playwright/test';
import { freshTenant, openPage, row, signIn, snap } from './helpers';
import { LOCAL_URL } from './env';

test('lists DevCloud, GitHub, GitLab, Gitee, Bitbucket and Gitea in order, DevCloud bound by default', async ({ page, context }, info) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(context, freshTenant(info));
  await openPage(page);

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Code source configuration');
  await expect(page.locator('tbody .source-name')).toHaveText(['DevCloud', 'GitHub', 'GitLab', 'Gitee', 'Bitbucket', 'Gitea']);
  await expect(page.getByRole('rowheader', { name: 'GitLab', exact: true })).toBeVisible();
  await expect(page.getByRole('columnheader')).toHaveText([
    'Code source', 'Status', 'Bound account', 'Address', 'Bound at', 'Actions',
  ]);

  const devcloud = row(page, 'DevCloud');
  await expect(devcloud.getByText('Bound', { exact: true })).toBeVisible();
  await expect(devcloud).toContainText('Bound to your cloud account by default');
  await expect(devcloud.getByRole('button')).toHaveCount(0);

  for (const name of ['GitHub', 'GitLab', 'Gitee']) {
    const r = row(page, name);
    await expect(r.getByText('Not bound', { exact: true })).toBeVisible();
    await expect(r.getByRole('button', { name: `Bind ${name}` })).toBeEnabled();
  }
  await snap(page, 'table-en');
  expect(errors, 'no console errors (hydration, CSP, 404s)').toEqual([]);
});

test('local mode shows its badge and works without a console sign-in', async ({ page }) => {
  await openPage(page, LOCAL_URL);
  await expect(page.getByText('Local mode')).toBeVisible();
  await expect(page.getByRole('rowheader')).toHaveCount(6);
  // This server has no OAuth apps registered: GitHub, Gitee and Bitbucket say so.
  for (const name of ['GitHub', 'Gitee', 'Bitbucket']) {
    const r = row(page, name);
    await expect(r.getByText('Not configured', { exact: true })).toBeVisible();
    await expect(r.getByRole('button', { name: `Bind ${name}` })).toBeDisabled();
    await expect(r).toContainText('ask your administrator');
  }
  await snap(page, 'table-local-en');
});

test('without a console identity the page answers 401 with a clear message', async ({ page }) => {
  const resp = await page.goto('/');
  expect(resp?.status()).toBe(401);
  await expect(page.getByRole('heading', { name: 'Sign-in required' })).toBeVisible();
  await expect(page.getByRole('table')).toHaveCount(0);
});

test.describe('in a dark system theme', () => {
  test.use({ colorScheme: 'dark' });

  test('the page follows prefers-color-scheme', async ({ page, context }, info) => {
    await signIn(context, freshTenant(info));
    await openPage(page);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(15, 17, 21)');
    await snap(page, 'table-dark-en');
  });
});
