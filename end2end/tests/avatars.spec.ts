// Avatars: fetched by the server when the account is checked and served from our own origin.
// The page never loads an image from a code host or gravatar; an avatar that cannot be fetched
// shows the initials badge, never a broken-image icon.
import { expect, test, type Page } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';
import { BASED_URL, FAKE_HTTP_BY_NAME } from './env';

/** Every request the page makes that leaves for another origin than `origin`. */
function foreignRequests(page: Page, origin: string): string[] {
  const foreign: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    if (new URL(url).origin !== origin) foreign.push(url);
  });
  return foreign;
}

test.beforeEach(async ({ context }, info) => {
  await signIn(context, freshTenant(info));
});

test('an unreachable avatar host shows the initials badge and nothing leaves our origin', async ({ page, baseURL }) => {
  const foreign = foreignRequests(page, new URL(baseURL as string).origin);
  await openPage(page);
  // The account's avatar is on a closed port: the server could not fetch it.
  await bindGitLab(page, FAKE_HTTP_BY_NAME, 'glpat-fake-avatar-down');
  const gitlab = row(page, 'GitLab');
  await expect(gitlab).toContainText('avatar-down');
  await expect(gitlab.locator('.avatar-letter')).toHaveText('A');
  await expect(gitlab.locator('img')).toHaveCount(0);

  await page.reload();
  await expect(row(page, 'GitLab').locator('.avatar-letter')).toHaveText('A');
  await expect(page.locator('img')).toHaveCount(0);
  await snap(page, 'avatar-unreachable');
  expect(foreign).toEqual([]);
});

test('a reachable avatar is shown from our origin', async ({ page, baseURL }) => {
  const origin = new URL(baseURL as string).origin;
  const foreign = foreignRequests(page, origin);
  await openPage(page);
  await bindGitLab(page, FAKE_HTTP_BY_NAME, 'glpat-fake-alice');
  await page.reload();
  await expect(row(page, 'GitLab')).toContainText('alice');
  const img = row(page, 'GitLab').locator('img.avatar');
  await expect(img).toHaveAttribute('src', /^\/avatars\/gitlab\?v=[0-9a-f]{16}$/);
  await expect(img).toHaveAttribute('alt', '');
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(48);
  const src = await img.evaluate((el: HTMLImageElement) => el.currentSrc);
  expect(src.startsWith(`${origin}/avatars/gitlab?v=`)).toBe(true);
  await expect(row(page, 'GitLab').locator('.avatar-letter')).toHaveCount(0);
  await snap(page, 'avatar-reachable');
  expect(foreign).toEqual([]);
});

test('an avatar that fails to load in the browser becomes the initials badge', async ({ page }) => {
  await openPage(page);
  await bindGitLab(page, FAKE_HTTP_BY_NAME, 'glpat-fake-alice');
  // The avatar disappears between the page and the image request (e.g. unbound elsewhere).
  await page.route('**/avatars/gitlab*', (route) => route.fulfill({ status: 404, body: '' }));
  await page.reload();
  const gitlab = row(page, 'GitLab');
  await expect(gitlab.locator('.avatar-letter')).toHaveText('A');
  await expect(gitlab.locator('img')).toHaveCount(0);
  await snap(page, 'avatar-failed-load');
});

test('under a base path the avatar URL carries the prefix', async ({ page }) => {
  const foreign = foreignRequests(page, new URL(BASED_URL).origin);
  await openPage(page, BASED_URL);
  await bindGitLab(page, FAKE_HTTP_BY_NAME, 'glpat-fake-alice');
  const img = row(page, 'GitLab').locator('img.avatar');
  await expect(img).toHaveAttribute('src', /^\/console\/code-sources\/avatars\/gitlab\?v=/);
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(48);
  expect(foreign).toEqual([]);
});
