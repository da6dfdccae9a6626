// Caching: after the first visit, a reload fetches none of the page's files again (bundle,
// wasm, stylesheet, favicon all come from the browser's memory or disk cache: hashed names
// are `immutable`), and the page hydrates from them. Chromium's own record of each request
// (CDP Network events) says where an answer came from.
import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { freshTenant, openPage, signIn } from './helpers';

type Seen = { url: string; status?: number; fromCache: boolean; cacheControl?: string; done: boolean };

/** Every request of the page's own static files while `action` runs, and where each came from. */
async function assetRequests(page: Page, cdp: CDPSession, action: () => Promise<void>): Promise<Seen[]> {
  const seen = new Map<string, Seen>();
  const isAsset = (url: string) => /\/(pkg\/|favicon)/.test(new URL(url).pathname);
  const onSent = (e: { requestId: string; request: { url: string } }) => {
    if (isAsset(e.request.url)) seen.set(e.requestId, { url: e.request.url, fromCache: false, done: false });
  };
  // Chromium fetches the favicon on its own, after the page's load: its events can arrive after
  // `action` has returned, so wait until every request seen has an answer (from the cache, from
  // the network, or a failure) before judging it. (A cache hit does not always end in
  // loadingFinished: the wasm's streaming compile can take it from the code cache.)
  const onDone = (e: { requestId: string }) => {
    const s = seen.get(e.requestId);
    if (s) s.done = true;
  };
  const onCached = (e: { requestId: string }) => {
    const s = seen.get(e.requestId);
    if (s) s.fromCache = true;
  };
  const onResponse = (e: {
    requestId: string;
    response: { status: number; fromDiskCache?: boolean; headers: Record<string, string> };
  }) => {
    const s = seen.get(e.requestId);
    if (!s) return;
    s.status = e.response.status;
    const h = Object.entries(e.response.headers).find(([k]) => k.toLowerCase() === 'cache-control');
    s.cacheControl = h?.[1];
    if (e.response.fromDiskCache) s.fromCache = true;
  };
  const settled = (s: Seen) => s.done || s.fromCache || s.status !== undefined;
  cdp.on('Network.requestWillBeSent', onSent);
  cdp.on('Network.requestServedFromCache', onCached);
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onDone);
  cdp.on('Network.loadingFailed', onDone);
  await action();
  const unsettled = (favicon: boolean) =>
    [...seen.values()].filter((s) => !settled(s) && s.url.includes('/favicon') === favicon).map((s) => s.url);
  await expect.poll(() => unsettled(false), { timeout: 10_000 }).toEqual([]);
  // The favicon is fetched by the browser's favicon service, not the page, and a reload can
  // abandon that fetch with no event at all; one that never got an answer loaded nothing, so
  // it is left out rather than judged.
  await expect.poll(() => unsettled(true), { timeout: 3_000 }).toEqual([]).catch(() => undefined);
  for (const [id, s] of seen) if (!settled(s)) seen.delete(id);
  cdp.off('Network.loadingFinished', onDone);
  cdp.off('Network.loadingFailed', onDone);
  cdp.off('Network.requestWillBeSent', onSent);
  cdp.off('Network.requestServedFromCache', onCached);
  cdp.off('Network.responseReceived', onResponse);
  return [...seen.values()].map(({ done: _, ...s }) => s);
}

test('a warm reload takes every asset from the cache and still hydrates', async ({ page, context }, info) => {
  await signIn(context, freshTenant(info));
  // The second load of the page comes from the server's page cache, whose CSP allows the
  // page's scripts by hash: the browser must find nothing to refuse.
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');

  const cold = await assetRequests(page, cdp, () => openPage(page));
  const names = cold.map((s) => new URL(s.url).pathname);
  // The first visit loads the hashed bundle, wasm and stylesheet from the server.
  for (const ext of ['.js', '.wasm', '.css']) {
    expect(names.some((n) => /\.[0-9a-f]{16}\./.test(n) && n.endsWith(ext)), `hashed ${ext} in ${names}`).toBe(true);
  }
  expect(cold.filter((s) => s.fromCache), 'nothing cached yet').toEqual([]);
  // Not the browser's guess (heuristic freshness from Last-Modified): the server's word.
  for (const s of cold) expect(s.cacheControl, s.url).toBe('public, max-age=31536000, immutable');

  // A reload (the page itself is revalidated; its files must not be).
  const warm = await assetRequests(page, cdp, async () => {
    await page.reload();
    await openPage(page, page.url());
  });
  // Chromium reports cache hits too: the reload did ask for each file, and got it locally.
  const warmNames = new Set(warm.map((s) => new URL(s.url).pathname));
  for (const name of names.filter((n) => !n.startsWith('/favicon'))) {
    expect(warmNames, `${name} requested on reload`).toContain(name);
  }
  const fromNetwork = warm.filter((s) => !s.fromCache);
  expect(fromNetwork, 'assets fetched again on a warm reload').toEqual([]);
  // And the same through a new navigation to the page.
  const again = await assetRequests(page, cdp, () => openPage(page));
  expect(again.filter((s) => !s.fromCache)).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  // Hydrated from the cached bundle: the dialogs open.
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await expect(page.getByRole('dialog', { name: 'Bind GitLab account' })).toBeVisible();
});
