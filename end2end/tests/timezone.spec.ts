// Times in the viewer's zone (#13.1), the actor's name in the activity log (#13.3) and long
// addresses (#13.5). The browser runs in Asia/Shanghai (UTC+8, no DST): the server learns the
// zone from the `cs_tz` cookie the page writes (or `?tz=`), so the server's HTML and the
// hydrated page show the same text, and nothing moves when the wasm takes over.
import { expect, test, type Page } from '@playwright/test';
import { bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';
import { FAKE_HTTP_BY_NAME } from './env';

test.use({ timezoneId: 'Asia/Shanghai' });

/** `YYYY-MM-DD HH:MM` of an ISO instant shifted by `hours` (test zones without DST). */
function wallClock(iso: string, hours: number): string {
  const d = new Date(Date.parse(iso) + hours * 3600_000);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** Records the first bound-at time (text and box) and any later change of a `<time>`'s text. */
async function watchPage(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __timeChanges: string[]; __firstTime: string[]; __firstBox: number[] };
    w.__timeChanges = [];
    w.__firstTime = [];
    w.__firstBox = [];
    // The bound-at time as it first appears (the server's streamed HTML), and where.
    new MutationObserver(() => {
      if (w.__firstTime.length) return;
      const t = document.querySelector('td.bound-at time');
      if (!t) return;
      w.__firstTime = [t.textContent ?? ''];
      const r = t.getBoundingClientRect();
      w.__firstBox = [r.x + scrollX, r.y + scrollY, r.width, r.height];
    }).observe(document, { subtree: true, childList: true });
    document.addEventListener('DOMContentLoaded', () => {
      new MutationObserver((records) => {
        for (const r of records) {
          const el = r.target.nodeType === 3 ? r.target.parentElement : (r.target as Element);
          if (el?.closest('time')) w.__timeChanges.push(el.closest('time')!.textContent ?? '');
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  });
}

/** The text of every `<time>` in the server's HTML. */
function ssrTimes(html: string): string[] {
  // Dynamic text is followed by a hydration marker (`<!>`), not directly by `</time>`.
  return [...html.matchAll(/<time[^>]*>([^<]*)/g)].map((m) => m[1].trim());
}

test('bound-at and activity times are shown in the browser zone, identical before and after hydration', async ({ page, context }, info) => {
  const tenant = freshTenant(info);
  await signIn(context, tenant);
  await watchPage(page);
  await openPage(page);
  // First visit: the page learnt the zone and remembered it for the server.
  await expect
    .poll(async () => (await context.cookies()).find((c) => c.name === 'cs_tz')?.value)
    .toBe('Asia/Shanghai');
  await bindGitLab(page, null, 'glpat-fake-alice');

  const time = row(page, 'GitLab').locator('td.bound-at time');
  const iso = await time.getAttribute('datetime');
  expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const local = wallClock(iso!, 8);
  const utc = `${wallClock(iso!, 0)} UTC`;
  await expect(time).toHaveText(local);
  await expect(time).toHaveAttribute('title', `${utc} · Asia/Shanghai UTC+8`);

  // The server renders the same text (it has the cookie now) ...
  const html = await (await page.request.get('/')).text();
  expect(html).toContain('data-tz="Asia/Shanghai"');
  expect(ssrTimes(html)).toContain(local);
  expect(html).not.toMatch(/<time[^>]*>[^<]*UTC/);
  // ... and hydration keeps it: the first <time> the browser sees (streamed in by the server,
  // before the wasm runs) already has the final text; no text changes, no layout shift.
  await openPage(page, '/');
  await expect(time).toHaveText(local);
  const { box, changes, first } = await page.evaluate(() => {
    const w = window as unknown as { __timeChanges: string[]; __firstTime: string[]; __firstBox: number[] };
    return { box: w.__firstBox, changes: w.__timeChanges, first: w.__firstTime };
  });
  expect(first, 'as first painted').toEqual([local]);
  expect(changes, 'no <time> text was replaced during hydration').toEqual([]);
  const now = await time.evaluate((t) => {
    const r = t.getBoundingClientRect();
    return [r.x + scrollX, r.y + scrollY, r.width, r.height];
  });
  for (let i = 0; i < 4; i++) expect(Math.abs(now[i] - box[i]), 'no layout shift').toBeLessThan(0.5);

  // The activity log: the same zone, and the user's name (the id on hover).
  await page.getByRole('button', { name: 'Show recent activity' }).click();
  const activity = page.getByRole('region', { name: 'Activity' }).getByRole('table');
  const entry = activity.getByRole('row').nth(1);
  await expect(entry).toContainText('Bound');
  const at = entry.locator('time');
  const atIso = await at.getAttribute('datetime');
  await expect(at).toHaveText(wallClock(atIso!, 8));
  await expect(at).toHaveAttribute('title', new RegExp(`^${wallClock(atIso!, 0)} UTC`));
  const actor = entry.locator('.actor');
  await expect(actor).toHaveText(`Tester ${tenant.slice(-4)}`);
  await expect(actor).toHaveAttribute('title', `user-${tenant}`);
  await expect(activity).not.toContainText(`user-${tenant}`);
  await snap(page, 'timezone-activity-en');
});

test('a zone the console passes in the URL wins, on the server and in the browser', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  const url = '/?tz=America%2FPhoenix'; // UTC-7 all year
  const html = await (await page.request.get(url)).text();
  expect(html).toContain('data-tz="America/Phoenix"');
  await openPage(page, url);
  const time = row(page, 'GitLab').locator('td.bound-at time');
  const iso = (await time.getAttribute('datetime'))!;
  await expect(time).toHaveText(wallClock(iso, -7));
  expect(ssrTimes(html)).toContain(wallClock(iso, -7));
  await expect(time).toHaveAttribute('title', `${wallClock(iso, 0)} UTC · America/Phoenix UTC-7`);
});

test('a first visit without the zone cookie shows UTC, labelled, then the local time', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  await context.clearCookies({ name: 'cs_tz' });
  const html = await (await page.request.get('/')).text();
  expect(html).toMatch(/<time[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  await openPage(page, '/');
  const time = row(page, 'GitLab').locator('td.bound-at time');
  const iso = (await time.getAttribute('datetime'))!;
  await expect(time).toHaveText(wallClock(iso, 8));
  await expect
    .poll(async () => (await context.cookies()).find((c) => c.name === 'cs_tz')?.value)
    .toBe('Asia/Shanghai');
});

test('a long address is cut, yet reachable by pointer, keyboard and screen reader, and copyable', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  // A narrow column, so the address does not fit (as a long one would not).
  const cell = row(page, 'GitLab').locator('td.address');
  // (Through the CSSOM: the page's CSP allows no inline <style>.)
  await cell.locator('.address-line').evaluate((e: HTMLElement) => (e.style.width = '90px'));
  const text = cell.locator('.address-text');
  const full = FAKE_HTTP_BY_NAME;
  await expect(text).toHaveText(full);
  expect(await text.evaluate((e) => e.scrollWidth > e.clientWidth), 'cut with an ellipsis').toBe(true);
  await expect(text).toHaveAttribute('title', full);
  const copy = cell.getByRole('button', { name: `Copy ${full}` });
  await expect(copy).toBeEnabled();
  await copy.focus();
  await expect(copy).toBeFocused();
  expect(await text.evaluate((e) => e.scrollWidth <= e.clientWidth), 'shown in full while focused').toBe(true);
  await copy.click();
  await expect(cell.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(full);
});

test('screenshots: table and activity in both languages, both themes, 375 and 1280 px', async ({ page, context }, info) => {
  test.setTimeout(120_000);
  await signIn(context, freshTenant(info));
  await openPage(page);
  await bindGitLab(page, null, 'glpat-fake-alice');
  for (const lang of ['zh-CN', 'en']) {
    for (const theme of ['light', 'dark']) {
      for (const width of [375, 1280]) {
        await page.setViewportSize({ width, height: 900 });
        await openPage(page, `/?lang=${lang}&theme=${theme}`);
        const tag = `${lang}-${theme}-${width}`;
        await expect(row(page, 'GitLab').locator('td.bound-at time')).not.toContainText('UTC');
        await snap(page, `tz-table-${tag}`);
        await page.getByRole('button', { name: lang === 'en' ? 'Show recent activity' : '查看最近的操作记录' }).click();
        await expect(page.locator('.activity-table .actor').first()).toContainText('Tester');
        await page.locator('.activity-table').scrollIntoViewIfNeeded();
        await snap(page, `tz-activity-${tag}`);
      }
    }
  }
});
