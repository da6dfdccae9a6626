// Time from navigation until "Bind GitLab" is clickable (the page has hydrated: row actions
// stay disabled until then), in Debian's Chromium through Playwright, cold (a fresh profile:
// empty cache) and warm (the same profile, second visit), on loopback and on a throttled
// link. Run by bench/perf.sh against the release server; by hand:
//   node bench/tti.mjs http://127.0.0.1:3931/ <console_identity token> [runs]
// Prints Markdown rows. The time is measured in the page (performance.now(), whose origin is
// the navigation's start) by a MutationObserver, so polling adds nothing to it.
import { createRequire } from 'module';
import * as path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const [url, token, runsArg] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node bench/tti.mjs URL IDENTITY_TOKEN [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg ?? 7);
const origin = new URL(url);

// Resolves window.__bindReady with performance.now() when the Bind GitLab button is enabled.
const watch = () => {
  window.__bindReady = new Promise((resolve) => {
    const ready = () => {
      const b = [...document.querySelectorAll('button')].find((e) => /Bind GitLab|绑定 GitLab/.test(e.getAttribute('aria-label') ?? e.textContent));
      if (b && !b.disabled) {
        resolve(performance.now());
        return true;
      }
      return false;
    };
    document.addEventListener('DOMContentLoaded', () => {
      if (ready()) return;
      const obs = new MutationObserver(() => ready() && obs.disconnect());
      obs.observe(document.documentElement, { subtree: true, childList: true, attributes: true });
    });
  });
};

const profiles = [
  { name: 'loopback', conditions: null },
  // Roughly a good office link to a data centre far away.
  { name: '20 Mbit/s, 40 ms RTT', conditions: { offline: false, latency: 40, downloadThroughput: 2.5e6, uploadThroughput: 1.25e6 } },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

// A page that never hydrates (a server built apart from its bundle, a failed chunk) would wait
// forever: give up after 30 s and say what the page reported.
async function visit(page) {
  const errors = [];
  const onError = (e) => errors.push(String(e));
  const onConsole = (m) => m.type() === 'error' && errors.push(m.text());
  page.on('pageerror', onError);
  page.on('console', onConsole);
  try {
    await page.goto(url);
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`Bind GitLab not clickable after 30 s: ${errors.join(' | ') || 'no page errors'}`)), 30_000));
    return await Promise.race([page.evaluate(() => window.__bindReady), timeout]);
  } finally {
    page.off('pageerror', onError);
    page.off('console', onConsole);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| Link | cold: median ms (min–max) | warm: median ms (min–max) |');
console.log('|---|---|---|');
for (const profile of profiles) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ locale: 'en-US' });
    await context.addCookies([{ name: 'console_identity', value: token, domain: origin.hostname, path: '/' }]);
    await context.addInitScript(watch);
    const page = await context.newPage();
    if (profile.conditions) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', profile.conditions);
    }
    cold.push(await visit(page));
    warm.push(await visit(page));
    await context.close();
  }
  const fmt = (xs) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  console.log(`| ${profile.name} | ${fmt(cold)} | ${fmt(warm)} |`);
}
await browser.close();
