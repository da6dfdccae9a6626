// Helpers: sign in as a fresh tenant (a console identity cookie), open the page once it has
// hydrated, bind GitLab through the dialogs, save screenshots.
import { expect, type BrowserContext, type Page, type TestInfo } from '@playwright/test';

/** Where the UI is: the page itself, an iframe (FrameLocator) or the widget's element. */
export type Root = { getByRole: Page['getByRole'] };
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { IDENTITY_KEY, PORTS } from './env';

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An HS256 console identity token, as the console would issue it. */
export function identityToken(tenant: string, user = `user-${tenant}`, expSecs = 3600): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const exp = Math.floor(Date.now() / 1000) + expSecs;
  const payload = b64url(JSON.stringify({ sub: user, tenant, name: `Tester ${tenant.slice(-4)}`, exp }));
  const sig = crypto.createHmac('sha256', IDENTITY_KEY).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

/** A tenant id unique to this test run. */
export function freshTenant(info: TestInfo): string {
  return `e2e-${info.workerIndex}-${crypto.randomBytes(5).toString('hex')}`;
}

export async function signIn(context: BrowserContext, tenant: string): Promise<void> {
  await context.addCookies([
    {
      name: 'console_identity',
      value: identityToken(tenant),
      domain: '127.0.0.1',
      path: '/',
      httpOnly: true,
      sameSite: 'Lax',
    },
  ]);
}

/** Opens the page and waits for hydration (row actions are enabled only once it is done). */
export async function openPage(page: Page, url = '/'): Promise<void> {
  await page.goto(url);
  await expect(page.getByRole('table')).toBeVisible();
  await expect(page.getByRole('group', { name: /Language|语言/ }).getByRole('button').first()).toBeEnabled();
}

export function row(page: Root, name: string) {
  // Up from the row header, so it works the same under a page, an iframe or an element.
  return page.getByRole('rowheader', { name }).locator('xpath=ancestor::tr[1]');
}

/** Fills the GitLab dialog and presses OK. */
export async function submitGitLab(page: Root, address: string | null, token: string): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Bind GitLab account' });
  await expect(dialog).toBeVisible();
  if (address !== null) await dialog.getByLabel('Code source address').fill(address);
  await dialog.getByLabel('Private token').fill(token);
  await dialog.getByRole('button', { name: 'OK' }).click();
}

export async function bindGitLab(page: Root, address: string | null, token: string): Promise<void> {
  await page.getByRole('button', { name: 'Bind GitLab' }).click();
  await submitGitLab(page, address, token);
  const confirm = page.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(confirm).toBeHidden();
  await expect(row(page, 'GitLab').getByText('Bound', { exact: true })).toBeVisible();
}

/** Binds GitHub through the popup (the fake GitHub's Authorize) and confirms the account. */
export async function bindGitHub(page: Page, root: Root = page): Promise<void> {
  await row(root, 'GitHub').getByRole('button', { name: 'Bind GitHub' }).click();
  const popupPromise = page.waitForEvent('popup');
  await root.getByRole('button', { name: 'Continue to GitHub' }).click();
  const popup = await popupPromise;
  await popup.getByRole('link', { name: 'Authorize', exact: true }).click();
  const confirm = root.getByRole('dialog', { name: 'Confirm the account to bind' });
  await expect(confirm).toContainText('octo-alice');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(root, 'GitHub').getByText('Bound', { exact: true })).toBeVisible();
}

const artifacts = path.resolve(__dirname, '..', 'artifacts');

/** Saves a screenshot to end2end/artifacts; `fullPage: false` for open dialogs (fixed overlays). */
export async function snap(page: Page, name: string, fullPage = true): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage });
}

export { PORTS };
