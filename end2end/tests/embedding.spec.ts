// Embedding in a console: the page in an iframe (theme and language from the console, ready /
// navigate / height events, the frame allowlist), the widget mounted into a console page (bind
// GitLab and GitHub through it; unlisted origins get nothing), and the app under a base path.
import { expect, test, type Page } from '@playwright/test';
import { bindGitHub, bindGitLab, freshTenant, openPage, row, signIn, snap } from './helpers';
import { BASE_PATH, BASED_URL, BUILD_URL, PORTS } from './env';

const FAKE = `http://127.0.0.1:${PORTS.fakeHttp}`;
const OTHER_CONSOLE = `http://localhost:${PORTS.fakeHttp}`;
const IDENTITY = `http://127.0.0.1:${PORTS.identity}`;
const WIDGET_JS = `${IDENTITY}/widget/codesource-widget.js`;

type Msg = { type: string; url?: string; height?: number };
const messages = (page: Page) => page.evaluate(() => (window as unknown as { __messages: Msg[] }).__messages);

test.beforeEach(async ({ context }, info) => {
  await signIn(context, freshTenant(info));
});

test('in an iframe: takes theme and language from the console and asks it to navigate', async ({ page }) => {
  await page.goto(`${FAKE}/embed?src=${encodeURIComponent(`${IDENTITY}/`)}&theme=dark&locale=zh-CN`);
  const frame = page.frameLocator('iframe');
  const app = frame.locator('.cs-app');
  // The page says it listens; the console answers with its theme and language.
  await expect.poll(async () => (await messages(page)).some((m) => m.type === 'codesource:ready')).toBe(true);
  await expect(app).toHaveAttribute('data-theme', 'dark');
  await expect(frame.getByRole('heading', { name: '代码源配置' })).toBeVisible();
  await expect(app).toHaveAttribute('lang', 'zh-CN');
  await snap(page, 'iframe-dark-zh');

  await page.evaluate(() => {
    const send = (window as unknown as { __send: (m: object) => void }).__send;
    send({ type: 'codesource:set-theme', theme: 'light' });
    send({ type: 'codesource:set-locale', locale: 'en' });
    send({ type: 'codesource:set-theme', theme: 'neon' }); // ignored
  });
  await expect(app).toHaveAttribute('data-theme', 'light');
  await expect(frame.getByRole('heading', { name: 'Code source configuration' })).toBeVisible();
  // The English intro wraps onto more lines: the iframe follows the content's new height.
  const contentHeight = () => app.evaluate((el) => el.scrollHeight);
  const iframeHeight = () => page.locator('iframe').evaluate((el) => (el as HTMLIFrameElement).style.height);
  await expect.poll(async () => (await iframeHeight()) === `${await contentHeight()}px`).toBe(true);

  // A console link: the console navigates its own window; the iframe stays where it is.
  await frame.getByRole('link', { name: 'Build an image' }).click();
  await expect
    .poll(async () => (await messages(page)).find((m) => m.type === 'codesource:navigate')?.url)
    .toBe(BUILD_URL);
  await expect(frame.getByRole('table')).toBeVisible();
  expect(page.url()).toContain('/embed?');
});

test('in an iframe with popups blocked: says so instead of sending the frame to the code host', async ({ page }) => {
  await page.addInitScript(() => {
    window.open = () => null;
  });
  await page.goto(`${FAKE}/embed?src=${encodeURIComponent(`${IDENTITY}/`)}`);
  const frame = page.frameLocator('iframe');
  await row(frame, 'GitHub').getByRole('button', { name: 'Bind GitHub' }).click();
  await frame.getByRole('button', { name: 'Continue to GitHub' }).click();
  const dialog = frame.getByRole('dialog', { name: 'Bind GitHub account' });
  await expect(dialog.getByRole('alert')).toContainText('The browser blocked the authorization window.');
  await expect(frame.getByRole('table')).toBeVisible();
});

test('only the listed console origins can frame the page', async ({ page }) => {
  // The local instance allows the fake hosts by name (http://localhost:…) only.
  const local = encodeURIComponent(`http://127.0.0.1:${PORTS.local}/`);
  await page.goto(`${OTHER_CONSOLE}/embed?src=${local}`);
  await expect(page.frameLocator('iframe').getByRole('table')).toBeVisible();

  await page.goto(`${FAKE}/embed?src=${local}`);
  // Chromium replaces a refused frame with its error page.
  await expect.poll(() => page.frames().map((f) => f.url())).toContain('chrome-error://chromewebdata/');
  await expect(page.frameLocator('iframe').getByRole('table')).toHaveCount(0);
});

test('the widget mounts into a console page and binds GitLab and GitHub', async ({ page }) => {
  await page.goto(`${FAKE}/widget-host?script=${encodeURIComponent(WIDGET_JS)}&locale=en&theme=dark`);
  const widget = page.locator('#code-sources');
  await expect(widget.getByRole('table')).toBeVisible();
  await expect(widget.locator('.cs-app')).toHaveAttribute('data-theme', 'dark');
  await expect(widget.getByRole('heading', { name: 'Code source configuration' })).toBeVisible();
  await snap(page, 'widget-dark-en');

  await bindGitLab(widget, null, 'glpat-fake-alice');
  await expect(row(widget, 'GitLab')).toContainText('alice');

  // OAuth from the widget: the popup reports back to the console's page.
  await bindGitHub(page, widget);
  // The console hears about each change through DOM events on the widget's element.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { __events: object[] }).__events))
    .toEqual([
      { provider: 'gitlab', bound: true },
      { provider: 'github', bound: true },
    ]);

  // The console page keeps its own language, background and colour scheme; the handle works.
  expect(await page.evaluate(() => document.documentElement.lang)).toBe('');
  expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toBe('normal');
  // The console restyles the widget with a plain rule, whatever the theme.
  await page.addStyleTag({ content: '.cs-app { --cs-primary: rgb(1, 2, 3); }' });
  const pressed = widget.locator('.lang-option[aria-pressed="true"]');
  await expect(pressed).toHaveCSS('background-color', 'rgb(1, 2, 3)');
  // Its requests carry the user's cookie and are answered (the same call from an unlisted
  // origin is refused, below).
  expect(await page.evaluate(postPage, `${IDENTITY}/api/code-sources/page`)).toBe(200);
  await page.evaluate(() => {
    const w = (window as unknown as { __widget: { setTheme(t: string): void; setLocale(l: string): void } }).__widget;
    w.setTheme('light');
    w.setLocale('zh-CN');
  });
  await expect(widget.locator('.cs-app')).toHaveAttribute('data-theme', 'light');
  await expect(widget.getByRole('heading', { name: '代码源配置' })).toBeVisible();
  await snap(page, 'widget-light-zh');
  await page.evaluate(() => (window as unknown as { __widget: { unmount(): void } }).__widget.unmount());
  await expect(widget.locator('.cs-app')).toHaveCount(0);
});

test('the widget on a console origin that is not listed gets nothing', async ({ page }) => {
  await page.goto(`${OTHER_CONSOLE}/widget-host?script=${encodeURIComponent(WIDGET_JS)}`);
  // The browser refuses the module itself (no CORS headers for this origin)...
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { __error?: string }).__error ?? ''))
    .toContain('Failed to fetch dynamically imported module');
  await expect(page.getByRole('table')).toHaveCount(0);
  // ...and any call it makes to the server functions.
  expect(await page.evaluate(postPage, `${IDENTITY}/api/code-sources/page`)).toBe('refused');
});

/** In the page: a credentialed server-function call; its status, or `refused` (CORS). */
async function postPage(url: string): Promise<number | string> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return r.status;
  } catch {
    return 'refused';
  }
}

test('under a base path: pages, assets, server functions and OAuth all work', async ({ page, context }) => {
  const outside: string[] = [];
  // The whole context: the OAuth popup's requests count too.
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.port === String(PORTS.based) && !u.pathname.startsWith(`${BASE_PATH}/`)) outside.push(u.pathname);
  });
  await openPage(page, BASED_URL);
  await bindGitLab(page, null, 'glpat-fake-alice');

  await bindGitHub(page);

  await row(page, 'GitLab').getByRole('button', { name: 'Unbind GitLab' }).click();
  await page.getByRole('dialog', { name: 'Unbind GitLab account' }).getByRole('button', { name: 'Confirm' }).click();
  await expect(row(page, 'GitLab').getByText('Not bound', { exact: true })).toBeVisible();
  await page.reload();
  await expect(row(page, 'GitHub')).toContainText('octo-alice');
  expect(outside).toEqual([]);
});
