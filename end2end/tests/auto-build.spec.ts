// Auto-build from the repositories dialog (issue #22): the switch turns it on with filters,
// a push at the fake GitLab becomes a delivery that built, the switch turns it off again; a
// token that cannot manage webhooks leads to manual setup (payload URL and secret, once).
//
// The fake GitLab lists `alice/repo-01` … `repo-45` (project ids 3001 …) to every token; its
// hook registry is shared by every test of the run, so each test uses its own repository.
import { expect, test, type Page } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, signIn, snap } from './helpers';
import { axe, hooksOf, openRepositories as openOn, push, repoItem, sha } from './autobuild-helpers';

/** The repositories dialog of the bound GitLab account. */
const openRepositories = (page: Page, repositoriesButton: string, title: string) =>
  openOn(page, 'GitLab', repositoriesButton, title);

test('turns auto-build on with filters, shows the delivery a push made, and turns it off', async ({ page, context, request }, info) => {
  const repo = 'alice/repo-01';
  await signIn(context, freshTenant(info));
  await openPage(page);
  // bob's token has `api`: it may manage webhooks.
  await bindGitLab(page, null, 'glpat-fake-bob');
  const dialog = await openRepositories(page, 'Repositories of GitLab', 'GitLab repositories of bob');

  const toggle = dialog.getByRole('switch', { name: `Auto-build ${repo}` });
  await expect(toggle).toBeEnabled();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  const form = dialog.getByRole('form', { name: `Auto-build ${repo}` });
  await expect(form.getByLabel('Branches')).toHaveValue('main');
  await expect(form.getByLabel('Branches')).toBeFocused();
  await expect(form.getByLabel('Tags')).toHaveValue('v*');
  await axe(page, 'the filters form');
  // Nothing to build is refused before it is sent.
  await form.getByLabel('Branches').fill(' , ');
  await form.getByLabel('Tags').fill('');
  await form.getByRole('button', { name: 'Turn on' }).click();
  await expect(form.getByRole('alert')).toContainText('The branch and tag filters are not valid.');
  await form.getByLabel('Branches').fill('main, release/*');
  await form.getByLabel('Tags').fill('v*');
  await form.getByRole('button', { name: 'Turn on' }).click();

  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(form).toBeHidden();
  const item = repoItem(dialog, `Auto-build ${repo}`);
  await expect(item).toContainText('main, release/*');
  await expect(item).toContainText('v*');
  await expect(item).toContainText('Last delivery');
  await expect(item).toContainText('None yet');
  // Our hook is on the repository at the code host, pointing at our webhook URL.
  const hooks = await hooksOf(request, repo);
  expect(hooks).toHaveLength(1);
  expect(hooks[0].url).toMatch(/\/hooks\/[A-Za-z0-9_-]{20,}$/);

  await item.getByRole('button', { name: `Deliveries of ${repo}` }).click();
  await expect(item).toContainText('No deliveries yet.');

  // PUSH STEP: the fake hosts' control endpoint (`POST /_fake/gitlab/push`).
  const commit = sha();
  await push(request, repo, commit);

  const deliveries = item.getByRole('table', { name: `Deliveries of ${repo}` });
  await expect(async () => {
    await item.getByRole('button', { name: 'Refresh' }).click();
    await expect(deliveries.getByRole('row').filter({ hasText: commit.slice(0, 7) })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const delivery = deliveries.getByRole('row').filter({ hasText: commit.slice(0, 7) });
  await expect(delivery).toContainText('Built');
  await expect(delivery).toContainText('refs/heads/main');
  await expect(delivery).toContainText('Push Hook');
  await expect(item.locator('.autobuild-last time')).toBeVisible();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await snap(page, 'auto-build-en-light', false);

  // The filters can be changed; the form starts with the current ones.
  await item.getByRole('button', { name: 'Edit filters' }).click();
  await expect(form.getByLabel('Branches')).toHaveValue('main, release/*');
  await form.getByLabel('Tags').fill('v*, nightly');
  await form.getByRole('button', { name: 'Save filters' }).click();
  await expect(item).toContainText('v*, nightly');

  // Kept across a reload: the list comes from the server.
  await page.reload();
  await expect(page.getByRole('table')).toBeVisible();
  const again = await openRepositories(page, 'Repositories of GitLab', 'GitLab repositories of bob');
  const toggleAgain = again.getByRole('switch', { name: `Auto-build ${repo}` });
  await expect(toggleAgain).toHaveAttribute('aria-checked', 'true');

  await toggleAgain.click();
  await expect(toggleAgain).toHaveAttribute('aria-checked', 'false');
  await expect(repoItem(again, `Auto-build ${repo}`)).not.toContainText('Last delivery');
  expect(await hooksOf(request, repo)).toHaveLength(0);
});

test('zh-CN: the switch and the deliveries in Chinese, dark theme', async ({ page, context, request }, info) => {
  const repo = 'alice/repo-02';
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-bob');
  await page.setViewportSize({ width: 1280, height: 1000 });
  await openPage(page, '/?lang=zh-CN&theme=dark');
  const dialog = await openRepositories(page, 'GitLab 的仓库', 'GitLab 账号 bob 的仓库');

  const toggle = dialog.getByRole('switch', { name: `自动构建 ${repo}` });
  await toggle.click();
  const form = dialog.getByRole('form', { name: `自动构建 ${repo}` });
  await expect(form.getByLabel('分支')).toHaveValue('main');
  await form.getByRole('button', { name: '开启' }).click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  const item = repoItem(dialog, `自动构建 ${repo}`);
  await expect(item).toContainText('最近投递');

  // PUSH STEP: the fake hosts' control endpoint (`POST /_fake/gitlab/push`).
  const commit = sha();
  await push(request, repo, commit);
  await item.getByRole('button', { name: `${repo} 的投递记录` }).click();
  const deliveries = item.getByRole('table', { name: `${repo} 的投递记录` });
  await expect(async () => {
    await item.getByRole('button', { name: '刷新' }).click();
    await expect(deliveries.getByRole('row').filter({ hasText: commit.slice(0, 7) })).toContainText('已构建', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await snap(page, 'auto-build-zh-dark', false);
  await axe(page, 'auto-build on with deliveries, zh-CN dark');

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
});

test('a token that cannot manage webhooks: the refusal names the scope, and manual setup shows the payload URL and the secret once', async ({ page, context }, info) => {
  const repo = 'alice/repo-03';
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(context, freshTenant(info));
  await openPage(page);
  // alice's token has read_api and read_repository, not `api`.
  await bindGitLab(page, null, 'glpat-fake-alice');
  const dialog = await openRepositories(page, 'Repositories of GitLab', 'GitLab repositories of alice');

  const toggle = dialog.getByRole('switch', { name: `Auto-build ${repo}` });
  await toggle.click();
  await dialog.getByRole('form', { name: `Auto-build ${repo}` }).getByRole('button', { name: 'Turn on' }).click();
  const item = repoItem(dialog, `Auto-build ${repo}`);
  await expect(item.getByRole('alert')).toContainText('The authorization on GitLab cannot manage webhooks: it lacks api.');
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  // A token host: the way out is a new token with the scope (the bind dialog), or by hand.
  await expect(item).toContainText('Create a GitLab token that also has api');
  await expect(item.getByRole('button', { name: 'Bind a new token' })).toBeVisible();

  await item.getByRole('button', { name: 'Set up manually' }).click();
  const setup = item.getByRole('region', { name: 'Add this webhook on GitLab' });
  await expect(setup).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  const payloadUrl = (await setup.locator('dd').nth(0).locator('code').textContent()) ?? '';
  expect(payloadUrl).toMatch(/^https?:\/\/.+\/hooks\/[A-Za-z0-9_-]{20,}$/);
  const secret = (await setup.locator('dd').nth(1).locator('code').textContent()) ?? '';
  expect(secret.length).toBeGreaterThanOrEqual(16);
  await expect(setup).toContainText('application/json');
  await expect(setup).toContainText('Push');
  await setup.getByRole('button', { name: 'Copy Secret' }).click();
  await expect(setup.getByRole('button', { name: 'Copied' })).toBeVisible();
  await expect(setup.getByRole('button', { name: 'Copy Payload URL' })).toHaveText('Copy');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await snap(page, 'auto-build-manual-en', false);
  await axe(page, 'manual setup');

  // Shown once: gone after Done and after a reload, while the registration stays.
  await setup.getByRole('button', { name: 'Done' }).click();
  await expect(setup).toBeHidden();
  await expect(item).toContainText('Webhook set up by hand');
  await expect(item).toContainText(payloadUrl);
  expect(await page.content()).not.toContain(secret);
  await page.reload();
  await expect(page.getByRole('table')).toBeVisible();
  const again = await openRepositories(page, 'Repositories of GitLab', 'GitLab repositories of alice');
  await expect(again.getByRole('switch', { name: `Auto-build ${repo}` })).toHaveAttribute('aria-checked', 'true');
  expect(await page.content()).not.toContain(secret);
});
