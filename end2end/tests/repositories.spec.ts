// Browsing the bound account's repositories and branches from the row.
import { expect, test } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';

test('lists, searches and pages repositories, and shows branches', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  await row(page, 'GitLab').getByRole('button', { name: 'Repositories of GitLab' }).click();
  const dialog = page.getByRole('dialog', { name: 'GitLab repositories of alice' });
  const list = dialog.getByRole('list', { name: 'Repositories' });
  await expect(list.locator(':scope > li')).toHaveCount(20);
  await expect(dialog.getByText('Page 1')).toBeVisible();
  await dialog.getByRole('button', { name: 'Next page' }).click();
  await expect(dialog.getByText('Page 2')).toBeVisible();
  await expect(list.locator(':scope > li').first()).toContainText('alice/repo-21');

  await dialog.getByRole('searchbox', { name: 'Search repositories' }).fill('repo-4');
  await dialog.getByRole('button', { name: 'Search repositories' }).click();
  await expect(list.locator(':scope > li')).toHaveCount(6);
  await expect(dialog.getByRole('button', { name: 'Next page' })).toBeDisabled();

  // The branches take a moment: a progress line until they are in.
  await page.route('**/api/code-sources/branches', async (route) => {
    await new Promise((r) => setTimeout(r, 800));
    await route.continue();
  });
  await dialog.getByRole('button', { name: 'Branches of alice/repo-40' }).click();
  await expect(list.getByRole('status')).toContainText('Loading');
  await expect(list.getByText('main · default')).toBeVisible();
  await expect(list.getByRole('status')).toHaveCount(0);
  await expect(list.getByText('develop')).toBeVisible();
  await snap(page, 'repositories-en');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});
