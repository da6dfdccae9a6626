// Two replicas on one PostgreSQL behind a round-robin proxy (no sticky sessions): every request
// of a flow may land on either, so the GitLab check and its Confirm, and the OAuth start, the
// callback and Confirm, cross replicas. Nothing a flow needs may live in one process's memory.
import { expect, test, type Page } from '@playwright/test';
import { bindGitHub, bindGitLab, freshTenant, openPage, row, signIn } from './helpers';
import { FAKE_HTTP_BY_IP, PROXY_URL } from './env';

async function served(page: Page): Promise<number[]> {
  const r = await page.request.get(`${PROXY_URL}/__rr`);
  return Object.values((await r.json()) as Record<string, number>);
}

test('binds GitLab and GitHub through two replicas behind a round-robin proxy', async ({ page, context }, info) => {
  const tenant = freshTenant(info);
  await signIn(context, tenant);
  const before = await served(page);
  await openPage(page, `${PROXY_URL}/`);

  await bindGitLab(page, FAKE_HTTP_BY_IP, 'glpat-fake-alice');
  await bindGitHub(page);
  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  await page.getByRole('dialog', { name: 'Unbind GitLab account' }).getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();

  // Whichever replica renders the page now, it shows the same state.
  for (let i = 0; i < 2; i++) {
    await openPage(page, `${PROXY_URL}/`);
    await expect(row(page, 'GitHub')).toContainText('octo-alice');
    await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  }
  const after = await served(page);
  const delta = after.map((n, i) => n - before[i]);
  // Both replicas took part in the flows.
  expect(delta.every((n) => n >= 3), `requests per replica: ${delta}`).toBe(true);
});
