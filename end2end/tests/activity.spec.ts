// The activity log below the table: its newest page when opened, older pages on request, and the
// newest again when a binding changes while it is open.
import { expect, test } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';
import { SERVICE_TOKEN } from './env';

test('pages older entries, and shows a change made while it is open', async ({ page, context }, info) => {
  const tenant = freshTenant(info);
  await signIn(context, tenant);
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  // 21 credentials handed to the build service: with the bind, 22 entries (a page is 20).
  for (let i = 0; i < 21; i++) {
    const credential = await context.request.get(`/api/v1/tenants/${tenant}/code-sources/gitlab/credential`, {
      headers: { Authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(credential.status()).toBe(200);
  }

  const region = page.getByRole('region', { name: 'Activity' });
  await region.getByRole('button', { name: 'Show recent activity' }).click();
  const rows = region.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(21);
  await expect(rows.nth(1)).toContainText('Credential issued');
  const older = region.getByRole('button', { name: 'Load older entries' });
  await older.click();
  await expect(rows).toHaveCount(23);
  await expect(rows.nth(22)).toContainText('Bound');
  await expect(older).toHaveCount(0);
  await snap(page, 'activity-paged-en');

  // Unbinding while the log is open shows the log from its newest entry again.
  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  await page.getByRole('dialog', { name: 'Unbind GitLab account' }).getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  await expect(rows.nth(1)).toContainText('Unbound');
  await expect(rows).toHaveCount(21);
  await expect(older).toBeVisible();
});

test('a log that cannot be loaded says so, rather than that it is empty', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await page.route('**/api/code-sources/activity', (route) => route.abort());
  const region = page.getByRole('region', { name: 'Activity' });
  await region.getByRole('button', { name: 'Show recent activity' }).click();
  await expect(region.getByRole('alert')).toBeVisible();
  await expect(region).not.toContainText('No activity yet.');
  await expect(region.getByRole('table')).toHaveCount(0);
});
