// Playwright: Debian's Chromium (no browser download), the fake code hosts (and fake console
// pages) and these servers: identity mode for most specs (one tenant per test), local mode
// for the default run, identity mode under a console-style base path, and two replicas on one
// PostgreSQL (CODESOURCE_TEST_DATABASE_URL, started by .ci/test.sh) behind a round-robin proxy.
import { defineConfig } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BASE_PATH, BUILD_URL, IDENTITY_KEY, ENCRYPTION_KEY, PORTS, SERVICE_TOKEN } from './tests/env';

const root = path.resolve(__dirname, '..');
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
// The server under test; CODESOURCE_BIN=target/server-release/codesource tests a release build.
const serverBin = process.env.CODESOURCE_BIN ?? path.join(target, 'debug', 'codesource');
const fakeHostsBin = process.env.FAKE_HOSTS_BIN ?? path.join(target, 'debug', 'fake-hosts');
const FAKE = `http://127.0.0.1:${PORTS.fakeHttp}`;
const PROXY = `http://127.0.0.1:${PORTS.proxy}`;
// Every worker loads this file too: the runner makes the data directory once and hands it on
// through the environment, so a run leaves one directory behind (none under .ci/test.sh, which
// gives one inside its work directory and removes it).
process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'codesource-e2e-'));
const dataRoot = process.env.E2E_DATA_DIR;
const databaseUrl = process.env.CODESOURCE_TEST_DATABASE_URL;
if (!databaseUrl) {
  throw new Error(
    'CODESOURCE_TEST_DATABASE_URL is not set: run bash .ci/test.sh, or start PostgreSQL with ' +
      '`export CODESOURCE_TEST_DATABASE_URL=$(bash .ci/postgres.sh start)`',
  );
}

const serverEnv = {
  ...process.env,
  // cargo-leptos (site-root) and Trunk (dist) write these under the workspace's own target/,
  // whatever CARGO_TARGET_DIR says; only the binaries live there.
  LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, 'target', 'site'),
  CODESOURCE_WIDGET_DIR: process.env.CODESOURCE_WIDGET_DIR ?? path.join(root, 'target', 'widget'),
  CODESOURCE_ALLOW_LOOPBACK: 'true',
  CODESOURCE_BUILD_NODE_CIDRS: '192.0.2.0/24,198.51.100.0/25',
  // The operator's default GitLab: the fake one, by name (a private GitLab is given by IP).
  CODESOURCE_GITLAB_URL: `http://localhost:${PORTS.fakeHttp}`,
  CODESOURCE_PROVIDER_TIMEOUT_SECS: '2',
  RUST_LOG: process.env.RUST_LOG ?? 'info',
} as Record<string, string>;

// The fake GitHub, Gitee and Bitbucket apps.
const oauthEnv = {
  CODESOURCE_GITHUB_URL: `${FAKE}/github`,
  CODESOURCE_GITHUB_API_URL: `${FAKE}/github-api`,
  CODESOURCE_GITHUB_CLIENT_ID: 'fake-github-client',
  CODESOURCE_GITHUB_CLIENT_SECRET: 'fake-github-secret',
  CODESOURCE_GITEE_URL: `${FAKE}/gitee`,
  CODESOURCE_GITEE_CLIENT_ID: 'fake-gitee-client',
  CODESOURCE_GITEE_CLIENT_SECRET: 'fake-gitee-secret',
  CODESOURCE_BITBUCKET_URL: `${FAKE}/bitbucket`,
  CODESOURCE_BITBUCKET_API_URL: `${FAKE}/bitbucket-api`,
  CODESOURCE_BITBUCKET_CLIENT_ID: 'fake-bitbucket-client',
  CODESOURCE_BITBUCKET_CLIENT_SECRET: 'fake-bitbucket-secret',
};

/** One of two replicas on one PostgreSQL, both behind the proxy's one address. */
function replica(name: 'replicaA' | 'replicaB') {
  return {
    command: serverBin,
    url: `http://127.0.0.1:${PORTS[name]}/healthz`,
    env: {
      ...serverEnv,
      ...oauthEnv,
      LEPTOS_SITE_ADDR: `127.0.0.1:${PORTS[name]}`,
      CODESOURCE_DATA_DIR: path.join(dataRoot, name),
      CODESOURCE_DATABASE_URL: databaseUrl as string,
      CODESOURCE_IDENTITY_KEY: IDENTITY_KEY,
      CODESOURCE_ENCRYPTION_KEY: ENCRYPTION_KEY,
      // The OAuth redirect URI and the origin check use the proxy's address.
      CODESOURCE_PUBLIC_URL: PROXY,
    },
    reuseExistingServer: false,
    stdout: 'ignore' as const,
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  outputDir: './test-results',
  reporter: [['list'], ['./summary-reporter.js']],
  use: {
    baseURL: `http://127.0.0.1:${PORTS.identity}`,
    locale: 'en-US',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: fakeHostsBin,
      url: `http://127.0.0.1:${PORTS.fakeHttp}/__log`,
      env: {
        ...process.env,
        FAKE_HOSTS_HTTP: `127.0.0.1:${PORTS.fakeHttp}`,
        FAKE_HOSTS_HTTPS: `127.0.0.1:${PORTS.fakeHttps}`,
      } as Record<string, string>,
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    {
      command: serverBin,
      url: `http://127.0.0.1:${PORTS.identity}/healthz`,
      env: {
        ...serverEnv,
        LEPTOS_SITE_ADDR: `127.0.0.1:${PORTS.identity}`,
        CODESOURCE_DATA_DIR: path.join(dataRoot, 'identity'),
        CODESOURCE_IDENTITY_KEY: IDENTITY_KEY,
        CODESOURCE_ENCRYPTION_KEY: ENCRYPTION_KEY,
        CODESOURCE_PUBLIC_URL: `http://127.0.0.1:${PORTS.identity}`,
        ...oauthEnv,
        // The fake console pages (another origin) may frame the page and mount the widget.
        CODESOURCE_FRAME_ANCESTORS: FAKE,
        CODESOURCE_WIDGET_ORIGINS: FAKE,
        CODESOURCE_BUILD_URL: BUILD_URL,
        CODESOURCE_SERVICE_TOKEN: SERVICE_TOKEN,
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    {
      command: serverBin,
      url: `http://127.0.0.1:${PORTS.local}/healthz`,
      env: {
        ...serverEnv,
        LEPTOS_SITE_ADDR: `127.0.0.1:${PORTS.local}`,
        CODESOURCE_DATA_DIR: path.join(dataRoot, 'local'),
        // Only this console origin (not the fake hosts' 127.0.0.1 one) may frame it.
        CODESOURCE_FRAME_ANCESTORS: `http://localhost:${PORTS.fakeHttp}`,
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    {
      command: serverBin,
      url: `http://127.0.0.1:${PORTS.based}${BASE_PATH}/healthz`,
      env: {
        ...serverEnv,
        LEPTOS_SITE_ADDR: `127.0.0.1:${PORTS.based}`,
        CODESOURCE_DATA_DIR: path.join(dataRoot, 'based'),
        CODESOURCE_BASE_PATH: BASE_PATH,
        CODESOURCE_IDENTITY_KEY: IDENTITY_KEY,
        CODESOURCE_ENCRYPTION_KEY: ENCRYPTION_KEY,
        CODESOURCE_PUBLIC_URL: `http://127.0.0.1:${PORTS.based}`,
        CODESOURCE_GITHUB_URL: `${FAKE}/github`,
        CODESOURCE_GITHUB_API_URL: `${FAKE}/github-api`,
        CODESOURCE_GITHUB_CLIENT_ID: 'fake-github-client',
        CODESOURCE_GITHUB_CLIENT_SECRET: 'fake-github-secret',
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    replica('replicaA'),
    replica('replicaB'),
    {
      command: `node ${path.join(__dirname, 'rr-proxy.js')} ${PORTS.proxy} ${PORTS.replicaA} ${PORTS.replicaB}`,
      url: `${PROXY}/__rr`,
      reuseExistingServer: false,
      stdout: 'ignore',
    },
  ],
});
