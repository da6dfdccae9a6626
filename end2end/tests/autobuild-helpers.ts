// What the auto-build specs share: the fake hosts' test-only control endpoints (push, list and
// change hooks behind the server's back), the repositories dialog and its items, axe.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as crypto from 'crypto';
import { FAKE_HTTP_BY_IP } from './env';
import { row } from './helpers';

export type FakeHost = 'github' | 'gitlab';

/** A commit id the fake moves a ref to (any 40 hex digits). */
export const sha = () => crypto.randomBytes(20).toString('hex');

export type Delivery = { hook_id: unknown; url: string; status: number | null; event: string };

/** Makes the fake host push to `repo` (`POST /_fake/{host}/push`): it moves the ref and sends the
 *  push, signed as that host signs, to every hook of the repository; exactly one must be there
 *  (ours), and it must have been answered 2xx. */
export async function push(
  request: APIRequestContext,
  repo: string,
  after: string,
  { ref = 'refs/heads/main', host = 'gitlab' as FakeHost } = {},
): Promise<Delivery> {
  const answer = await request.post(`${FAKE_HTTP_BY_IP}/_fake/${host}/push`, { data: { repo, ref, after } });
  expect(answer.ok(), await answer.text()).toBe(true);
  const { deliveries } = (await answer.json()) as { deliveries: Delivery[] };
  expect(deliveries.length, 'one hook of ours on the repository').toBe(1);
  expect(deliveries[0].status, JSON.stringify(deliveries[0])).toBeGreaterThanOrEqual(200);
  expect(deliveries[0].status, JSON.stringify(deliveries[0])).toBeLessThan(300);
  return deliveries[0];
}

export type FakeHook = { id: number | string; url: string; active: boolean };

/** The hooks the fake host has on `repo` (`GET /_fake/{host}/hooks`). */
export async function hooksOf(request: APIRequestContext, repo: string, host: FakeHost = 'gitlab'): Promise<FakeHook[]> {
  const answer = await request.get(`${FAKE_HTTP_BY_IP}/_fake/${host}/hooks?repo=${encodeURIComponent(repo)}`);
  expect(answer.ok()).toBe(true);
  return answer.json();
}

/** Deletes, disables or enables a hook behind the server's back (`POST /_fake/{host}/hook`). */
export async function changeHook(
  request: APIRequestContext,
  host: FakeHost,
  repo: string,
  id: FakeHook['id'],
  action: 'delete' | 'disable' | 'enable',
) {
  const answer = await request.post(`${FAKE_HTTP_BY_IP}/_fake/${host}/hook`, { data: { repo, id, action } });
  expect(answer.status(), await answer.text()).toBe(204);
}

/** Sets a ref's head without a delivery (`POST /_fake/{host}/ref`). */
export async function setRef(request: APIRequestContext, host: FakeHost, repo: string, ref: string, to: string) {
  const answer = await request.post(`${FAKE_HTTP_BY_IP}/_fake/${host}/ref`, { data: { repo, ref, sha: to } });
  expect(answer.status(), await answer.text()).toBe(204);
}

/** axe on the whole document (the open dialog included); serious and critical findings fail. */
export async function axe(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  expect(bad, `axe on ${what}`).toEqual([]);
}

/** The repository's item in the dialog's list: the one holding the switch named `name`. */
export function repoItem(dialog: Locator, name: string): Locator {
  return dialog.getByRole('listitem').filter({ has: dialog.page().getByRole('switch', { name, exact: true }) });
}

/** Opens the repositories dialog from the code host's row. */
export async function openRepositories(page: Page, host: string, repositoriesButton: string, title: string) {
  await row(page, host).getByRole('button', { name: repositoriesButton }).click();
  const dialog = page.getByRole('dialog', { name: title });
  await expect(dialog.getByRole('list').locator(':scope > li').first()).toBeVisible();
  return dialog;
}
