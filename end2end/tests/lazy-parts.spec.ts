// The dialogs and the activity log are separate wasm files (`cargo leptos build --split`),
// fetched when first opened. One that cannot be fetched (network, or a page older than the
// server's files) is reported, and the page goes on working: the next try fetches it again.
import { expect, test } from '@playwright/test';
import { freshTenant, openPage, signIn } from './helpers';

test.beforeEach(async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
});

const notLoaded = 'The console server could not be reached. Reload the page (it may be out of date) and try again.';

test('a dialog whose code cannot be fetched is reported, and opens on the next try', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const fetched: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) fetched.push(r.url());
  });

  // No dialog code comes with the page.
  expect(fetched.filter((u) => u.includes('/split_'))).toEqual([]);

  await page.route('**/split_codesource_token_dialog*', (route) => route.abort());
  const bind = page.getByRole('button', { name: 'Bind GitLab' });
  await bind.click();
  await expect(page.getByRole('status').getByText(notLoaded)).toBeVisible();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(bind).toBeFocused();

  await page.unroute('**/split_codesource_token_dialog*');
  await bind.click();
  await expect(page.getByRole('dialog', { name: 'Bind GitLab account' })).toBeVisible();
  expect(fetched.some((u) => u.includes('/split_codesource_token_dialog'))).toBe(true);
  expect(errors).toEqual([]);
});

test('the activity table whose code cannot be fetched shows an error, not a dead page', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/split_codesource_activity_table*', (route) => route.abort());
  await page.getByRole('button', { name: 'Show recent activity' }).click();
  const activity = page.getByRole('region', { name: 'Activity' });
  await expect(activity.getByRole('alert')).toContainText('The console server could not be reached.');
  // Still alive: a dialog opens.
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await expect(page.getByRole('dialog', { name: 'Bind GitLab account' })).toBeVisible();
  expect(errors).toEqual([]);
});
