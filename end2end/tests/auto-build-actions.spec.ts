// What a tenant does about a repository with auto-build (issue #23), in English and in Chinese:
// Repair after our hook was deleted on the code host (it comes back, one), Build latest commit
// (a manual build of the ref's head in the deliveries and one event in the feed), Rotate secret
// (a confirm step; the host's pushes still build), and a repair the host refuses at its hook
// limit, which leaves the status "Webhook missing" until a slot is free.
//
// A hook deleted behind our back shows as missing only while nothing could re-create it: a repair
// and the periodic reconcile both re-create it at once. GitHub's limit of 20 hooks per event (the
// fake has it) is what keeps it missing here.
//
// Also: a webhook set up by hand gets its new secret shown once (GitLab, a token without `api`),
// and the actions fit a 360 px screen.
//
// Against the fake GitHub (bound through its popup) and GitLab; their hook registries are shared
// by the whole run, so each test uses its own repository.
import { expect, test, type APIRequestContext, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { bindGitHub, bindGitLab, freshTenant, openPage, signIn, snap } from './helpers';
import {
  axe,
  changeHook,
  hooksOf,
  openRepositories,
  push,
  repoItem,
  setRef,
  sha,
  type FakeHook,
} from './autobuild-helpers';
import { FAKE_HTTP_BY_IP, SERVICE_TOKEN } from './env';

test.describe.configure({ mode: 'parallel' });

/** What each language's page says. */
type Texts = {
  tag: 'en' | 'zh';
  /** Where the page is opened after binding (language and theme). */
  url: string;
  reposButton: string;
  reposTitle: string;
  autoBuild: (repo: string) => string;
  turnOn: string;
  active: string;
  missing: string;
  missingHelp: string;
  repair: (repo: string) => string;
  repaired: string;
  added: string;
  limit: string;
  build: (repo: string) => string;
  kind: string;
  tagOption: string;
  noSuchRef: string;
  name: string;
  buildSubmit: string;
  built: (ref: string, commit: string) => string;
  deliveries: (repo: string) => string;
  refresh: string;
  manualBuild: string;
  builtOutcome: string;
  rotate: (repo: string) => string;
  rotateButton: string;
  rotateText: string;
  cancel: string;
  rotated: string;
};

const EN: Texts = {
  tag: 'en',
  url: '/?lang=en&theme=light',
  reposButton: 'Repositories of GitHub',
  reposTitle: 'GitHub repositories of octo-alice',
  autoBuild: (r) => `Auto-build ${r}`,
  turnOn: 'Turn on',
  active: 'Active',
  missing: 'Webhook missing',
  missingHelp: 'Our webhook is no longer on GitHub (someone removed it): pushes do not build. Repair adds it again.',
  repair: (r) => `Repair ${r}`,
  repaired: 'Repair finished. Status: Active.',
  added: 'The webhook was missing: it was added again.',
  limit: 'The repository already has as many webhooks as the code host allows.',
  build: (r) => `Build latest commit of ${r}`,
  kind: 'Branch or tag',
  tagOption: 'Tag',
  noSuchRef: 'The repository has no such branch or tag.',
  name: 'Name',
  buildSubmit: 'Build',
  built: (ref, c) => `Build requested: ${ref} at commit ${c}.`,
  deliveries: (r) => `Deliveries of ${r}`,
  refresh: 'Refresh',
  manualBuild: 'Manual build',
  builtOutcome: 'Built',
  rotate: (r) => `Rotate secret of ${r}`,
  rotateButton: 'Rotate secret',
  rotateText: 'deliveries signed with the old secret are still accepted for 24 hours',
  cancel: 'Cancel',
  rotated: 'Secret rotated.',
};

const ZH: Texts = {
  tag: 'zh',
  url: '/?lang=zh-CN&theme=dark',
  reposButton: 'GitHub 的仓库',
  reposTitle: 'GitHub 账号 octo-alice 的仓库',
  autoBuild: (r) => `自动构建 ${r}`,
  turnOn: '开启',
  active: '正常',
  missing: 'Webhook 缺失',
  missingHelp: 'GitHub 上已没有本服务的 Webhook（可能已被删除），推送不会触发构建。点击“修复”可重新添加。',
  repair: (r) => `修复 ${r}`,
  repaired: '修复完成，当前状态：正常。',
  added: 'Webhook 已缺失，已重新添加。',
  limit: '该仓库的 Webhook 数量已达代码托管平台上限。',
  build: (r) => `构建最新提交 ${r}`,
  kind: '分支或标签',
  tagOption: '标签',
  noSuchRef: '该仓库没有这个分支或标签。',
  name: '名称',
  buildSubmit: '构建',
  built: (ref, c) => `已请求构建：${ref} 的提交 ${c}。`,
  deliveries: (r) => `${r} 的投递记录`,
  refresh: '刷新',
  manualBuild: '手动构建',
  builtOutcome: '已构建',
  rotate: (r) => `轮换密钥 ${r}`,
  rotateButton: '轮换密钥',
  rotateText: '使用旧密钥签名的投递在 24 小时内仍会被接受',
  cancel: '取消',
  rotated: '密钥已轮换。',
};

type FeedEvent = { tenant: string; commit: string; ref: string; manual: boolean; cursor: string };

/** Every event in the build-event feed (all tenants), read as the build service reads it. */
async function feed(request: APIRequestContext): Promise<FeedEvent[]> {
  const all: FeedEvent[] = [];
  let after = '0';
  for (;;) {
    const answer = await request.get(`/api/v1/build-events?after=${after}&limit=500`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(answer.ok(), await answer.text()).toBe(true);
    const page = (await answer.json()) as { events: FeedEvent[]; next: string };
    all.push(...page.events);
    if (page.events.length < 500) return all;
    after = page.next;
  }
}

/** The tenant's GitHub token, as the build service gets it. */
async function githubToken(request: APIRequestContext, tenant: string): Promise<string> {
  const cred = await request.get(`/api/v1/tenants/${tenant}/code-sources/github/credential`, {
    headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
  });
  expect(cred.ok(), await cred.text()).toBe(true);
  return (await cred.json()).access_token;
}

/** Adds a hook to someone else's URL on the fake GitHub with `token`, as another tool would;
 *  the host's status. */
async function foreignHook(request: APIRequestContext, token: string, repo: string, n: number): Promise<number> {
  const made = await request.post(`${FAKE_HTTP_BY_IP}/github-api/repos/${repo}/hooks`, {
    headers: { authorization: `Bearer ${token}` },
    // A closed port: a push to it fails at once.
    data: { config: { url: `http://127.0.0.1:9/other-${n}`, content_type: 'json' }, events: ['push'] },
  });
  return made.status();
}

async function flow(
  L: Texts,
  repo: string,
  { page, context, request }: { page: Page; context: BrowserContext; request: APIRequestContext },
  info: TestInfo,
) {
  const tenant = freshTenant(info);
  await signIn(context, tenant);
  await openPage(page);
  await bindGitHub(page);
  await page.setViewportSize({ width: 1280, height: 1000 });
  await openPage(page, L.url);
  const dialog = await openRepositories(page, 'GitHub', L.reposButton, L.reposTitle);

  const toggle = dialog.getByRole('switch', { name: L.autoBuild(repo) });
  await toggle.click();
  await dialog.getByRole('form', { name: L.autoBuild(repo) }).getByRole('button', { name: L.turnOn }).click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  const item = repoItem(dialog, L.autoBuild(repo));
  const status = item.locator('.autobuild-status .badge');
  await expect(status).toHaveText(L.active);
  const [ours] = await hooksOf(request, repo, 'github');
  expect(ours.url).toMatch(/\/hooks\/[A-Za-z0-9_-]{22}$/);
  const oursNow = async (): Promise<FakeHook[]> =>
    (await hooksOf(request, repo, 'github')).filter((h) => h.url === ours.url);

  // REPAIR: our hook deleted on the host comes back, exactly one.
  await changeHook(request, 'github', repo, ours.id, 'delete');
  expect(await oursNow()).toHaveLength(0);
  const repair = item.getByRole('button', { name: L.repair(repo) });
  await repair.click();
  await expect(item).toContainText(L.repaired);
  await expect(item).toContainText(L.added);
  await expect(status).toHaveText(L.active);
  await expect(item.locator('.autobuild-status time')).toBeVisible();
  await expect(repair).toBeFocused();
  const repaired = await oursNow();
  expect(repaired).toHaveLength(1);
  expect(repaired[0].active).toBe(true);
  await snap(page, `auto-build-repaired-${L.tag}`, false);

  // BUILD LATEST COMMIT of the default branch: a manual build of its head.
  const head = sha();
  await setRef(request, 'github', repo, 'refs/heads/main', head);
  await item.getByRole('button', { name: L.deliveries(repo) }).click();
  await item.getByRole('button', { name: L.build(repo) }).click();
  const form = item.getByRole('form', { name: L.build(repo) });
  await expect(form.getByLabel(L.kind)).toBeFocused();
  await expect(form.getByLabel(L.name)).toHaveValue('main');
  await snap(page, `auto-build-build-form-${L.tag}`, false);
  await axe(page, `the build form (${L.tag})`);
  await form.getByRole('button', { name: L.buildSubmit, exact: true }).click();
  await expect(form).toBeHidden();
  await expect(item).toContainText(L.built('refs/heads/main', head.slice(0, 7)));
  const deliveries = item.getByRole('table', { name: L.deliveries(repo) });
  const manual = deliveries.getByRole('row').filter({ hasText: L.manualBuild });
  await expect(manual).toHaveCount(1);
  await expect(manual).toContainText('refs/heads/main');
  await expect(manual).toContainText(head.slice(0, 7));
  await expect(manual).toContainText(L.builtOutcome);
  const events = (await feed(request)).filter((e) => e.tenant === tenant && e.commit === head);
  expect(events, 'one event for the head').toHaveLength(1);
  expect(events[0]).toMatchObject({ ref: 'refs/heads/main', manual: true });
  // A tag the repository does not have: said so, nothing built.
  await item.getByRole('button', { name: L.build(repo) }).click();
  await form.getByLabel(L.kind).selectOption({ label: L.tagOption });
  await form.getByLabel(L.name).fill('v9.9');
  await form.getByRole('button', { name: L.buildSubmit, exact: true }).click();
  await expect(item.getByRole('alert')).toContainText(L.noSuchRef);
  await expect(manual).toHaveCount(1);
  // Opening the next step starts afresh: the failure no longer shows under it.
  await item.getByRole('button', { name: L.rotate(repo) }).click();
  await expect(item.getByRole('alert').filter({ hasText: L.noSuchRef })).toHaveCount(0);
  await item.getByRole('group', { name: L.rotate(repo) }).getByRole('button', { name: L.cancel }).click();

  // ROTATE SECRET: a confirm step; the hook keeps its id, and a push from the host still builds.
  await item.getByRole('button', { name: L.rotate(repo) }).click();
  const confirm = item.getByRole('group', { name: L.rotate(repo) });
  await expect(confirm).toContainText(L.rotateText);
  await expect(confirm.getByRole('button', { name: L.cancel })).toBeFocused();
  await snap(page, `auto-build-rotate-${L.tag}`, false);
  await confirm.getByRole('button', { name: L.rotateButton, exact: true }).click();
  await expect(confirm).toBeHidden();
  await expect(item).toContainText(L.rotated);
  expect((await oursNow()).map((h) => h.id)).toEqual([repaired[0].id]);
  const pushed = sha();
  await push(request, repo, pushed, { host: 'github' });
  await expect(async () => {
    await item.getByRole('button', { name: L.refresh }).click();
    await expect(deliveries.getByRole('row').filter({ hasText: pushed.slice(0, 7) })).toContainText(L.builtOutcome, {
      timeout: 1_000,
    });
  }).toPass({ timeout: 15_000 });
  expect((await feed(request)).filter((e) => e.tenant === tenant && e.commit === pushed)).toHaveLength(1);
  await deliveries.scrollIntoViewIfNeeded();
  await snap(page, `auto-build-deliveries-${L.tag}`, false);

  // MISSING: deleted again while the repository is at GitHub's 20 hooks, our repair is refused
  // and the status says the hook is missing; once a slot is free, Repair brings it back.
  await changeHook(request, 'github', repo, repaired[0].id, 'delete');
  const token = await githubToken(request, tenant);
  for (let n = 0; n < 20; n++) expect(await foreignHook(request, token, repo, n)).toBe(201);
  await repair.click();
  await expect(item.getByRole('alert')).toContainText(L.limit);
  await expect(status).toHaveText(L.missing);
  await expect(item).toContainText(L.missingHelp);
  await snap(page, `auto-build-missing-${L.tag}`, false);
  await axe(page, `a registration whose hook is missing (${L.tag})`);
  const others = (await hooksOf(request, repo, 'github')).filter((h) => h.url !== ours.url);
  expect(others).toHaveLength(20);
  await changeHook(request, 'github', repo, others[0].id, 'delete');
  await repair.click();
  await expect(item).toContainText(L.repaired);
  await expect(status).toHaveText(L.active);
  await expect(item.getByRole('alert')).toHaveCount(0);
  expect(await oursNow()).toHaveLength(1);
  for (const h of others.slice(1)) await changeHook(request, 'github', repo, h.id, 'delete');
}

test('Repair, Build latest commit and Rotate secret, in English (light)', async ({ page, context, request }, info) => {
  await flow(EN, 'octo-alice/repo-06', { page, context, request }, info);
});

test('修复、构建最新提交、轮换密钥（中文，深色）', async ({ page, context, request }, info) => {
  await flow(ZH, 'octo-alice/repo-07', { page, context, request }, info);
});

test('a narrow screen: the actions wrap under the details', async ({ page, context }, info) => {
  const repo = 'octo-alice/repo-08';
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitHub(page);
  await page.setViewportSize({ width: 360, height: 900 });
  const dialog = await openRepositories(page, 'GitHub', EN.reposButton, EN.reposTitle);
  const toggle = dialog.getByRole('switch', { name: EN.autoBuild(repo) });
  await toggle.click();
  await dialog.getByRole('form', { name: EN.autoBuild(repo) }).getByRole('button', { name: EN.turnOn }).click();
  const item = repoItem(dialog, EN.autoBuild(repo));
  await item.getByRole('button', { name: EN.build(repo) }).click();
  await expect(item.getByRole('form', { name: EN.build(repo) })).toBeVisible();
  await item.getByRole('button', { name: EN.build(repo) }).scrollIntoViewIfNeeded();
  await snap(page, 'auto-build-actions-narrow-en', false);
  // Nothing sticks out of the form, nor the dialog sideways.
  const form = item.getByRole('form', { name: EN.build(repo) });
  const box = (await form.boundingBox())!;
  for (const field of [form.getByLabel('Branch or tag'), form.getByLabel('Name')]) {
    const b = (await field.boundingBox())!;
    expect(b.x + b.width, 'inside the form').toBeLessThanOrEqual(box.x + box.width);
  }
  expect(await dialog.evaluate((d) => d.scrollWidth - d.clientWidth)).toBeLessThanOrEqual(0);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
});

test('a webhook set up by hand: Rotate secret shows the new secret once, to paste into the host', async ({ page, context }, info) => {
  const repo = 'alice/repo-04';
  await signIn(context, freshTenant(info));
  await openPage(page);
  // alice's token cannot manage webhooks: auto-build is set up by hand.
  await bindGitLab(page, null, 'glpat-fake-alice');
  await page.setViewportSize({ width: 1280, height: 1000 });
  const dialog = await openRepositories(page, 'GitLab', 'Repositories of GitLab', 'GitLab repositories of alice');
  await dialog.getByRole('switch', { name: `Auto-build ${repo}` }).click();
  await dialog.getByRole('form', { name: `Auto-build ${repo}` }).getByRole('button', { name: 'Turn on' }).click();
  const item = repoItem(dialog, `Auto-build ${repo}`);
  await item.getByRole('button', { name: 'Set up manually' }).click();
  const setup = item.getByRole('region', { name: 'Add this webhook on GitLab' });
  const first = (await setup.locator('dd').nth(1).locator('code').textContent()) ?? '';
  await setup.getByRole('button', { name: 'Done' }).click();
  await expect(item.locator('.autobuild-status .badge')).toHaveText('Webhook set up by hand');

  await item.getByRole('button', { name: `Rotate secret of ${repo}` }).click();
  const confirm = item.getByRole('group', { name: `Rotate secret of ${repo}` });
  await expect(confirm).toContainText('It is shown once: replace the secret in the webhook settings on GitLab with it.');
  await confirm.getByRole('button', { name: 'Rotate secret', exact: true }).click();
  await expect(item).toContainText('Secret rotated.');
  const rotated = item.getByRole('region', { name: "Update the webhook's secret on GitLab" });
  await expect(rotated).toContainText('the old one is accepted for 24 more hours');
  const secret = (await rotated.locator('dd').nth(1).locator('code').textContent()) ?? '';
  expect(secret.length).toBeGreaterThanOrEqual(32);
  expect(secret).not.toBe(first);
  await expect(rotated.getByRole('button', { name: 'Copy Secret' })).toBeVisible();
  await snap(page, 'auto-build-rotated-manual-en', false);
  await axe(page, 'a rotated manual setup');

  // Shown once: gone after Done and after a reload.
  await rotated.getByRole('button', { name: 'Done' }).click();
  await expect(rotated).toBeHidden();
  expect(await page.content()).not.toContain(secret);
  await page.reload();
  await expect(page.getByRole('table')).toBeVisible();
  await openRepositories(page, 'GitLab', 'Repositories of GitLab', 'GitLab repositories of alice');
  expect(await page.content()).not.toContain(secret);
});
