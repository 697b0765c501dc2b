// Runs the editor's browser tests (editor/tests/*.test.mjs) in Debian's Chromium, driven
// by playwright-core, against a running `switchboard run`. `cargo test` runs this through
// tests/editor_browser.rs, which starts the server; by hand:
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD='...' node editor/tests/run.mjs [NAME...]
//
// Each test file exports `default async function (t)` and gets a fresh browser context
// (no cookies) with `t.page` open at the app, signed out. `t` also has `signIn()`,
// `signInPerson(extension)` (the people's client at /client/ instead, signed in),
// `sitePage()` (a page of the test website on its own origin, in a browser context of its
// own: the visitor), `baseUrl`, `screenshot(name, page?)`, `assert(cond, msg)`,
// `until(fn, what)` (wait for a condition in the page) and `context`. A test fails on a thrown error, an uncaught error
// in the page, or a Content-Security-Policy violation. Exit status: 0 when all passed, 1
// when one failed, 2 when the run could not start; NAME arguments run only the files whose
// name holds one. A failed test leaves a screenshot in FAILURE_DIR (the temp folder).
//
// Environment: BASE_URL (required), ADMIN_USER (admin), ADMIN_PASSWORD (required),
// CHROMIUM (/usr/bin/chromium), SCREENSHOT_DIR (docs/ of the repository), TEST_TIMEOUT_MS
// (90000), SIP_ADDR (the server's SIP host:port, as t.sipAddr), SITE_URL (where to serve
// editor/tests/fixtures/ as the test website, e.g. http://localhost:8099; its pages get
// the server's address where they say SWITCHBOARD_URL), PERSON_PASSWORD (the web password
// of the extensions tests sign in as; ADMIN_PASSWORD when unset).

import { chromium } from 'playwright-core';
import { readdirSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

function setting(name, fallback) {
  const value = process.env[name];
  if (value) return value;
  if (fallback === undefined) {
    console.error(`${name} is not set; see the top of editor/tests/run.mjs for what to set`);
    process.exit(2);
  }
  return fallback;
}

const baseUrl = setting('BASE_URL').replace(/\/$/, '');
const user = setting('ADMIN_USER', 'admin');
const password = setting('ADMIN_PASSWORD');
const executablePath = setting('CHROMIUM', '/usr/bin/chromium');
const screenshotDir = setting('SCREENSHOT_DIR', join(repo, 'docs'));
const timeoutMs = Number(setting('TEST_TIMEOUT_MS', '90000'));
const failureDir = setting('FAILURE_DIR', tmpdir());
const personPassword = setting('PERSON_PASSWORD', password);
const siteUrl = process.env.SITE_URL ? process.env.SITE_URL.replace(/\/$/, '') : null;

if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: install Debian's chromium (apt-get install chromium), or set CHROMIUM`);
  process.exit(2);
}

const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => !filters.length || filters.some((name) => f.includes(name)))
  .sort();
if (!files.length) {
  console.error(`no test files in ${here} match ${filters.join(' ') || '*.test.mjs'}`);
  process.exit(2);
}

class Failure extends Error {}

/**
 * The test website: editor/tests/fixtures/ over HTTP at SITE_URL's port, the server's
 * address written where a page says SWITCHBOARD_URL. Null without SITE_URL.
 */
async function startSite() {
  if (!siteUrl) return null;
  const fixtures = join(here, 'fixtures');
  const types = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' };
  const server = createServer((req, res) => {
    const name = new URL(req.url, siteUrl).pathname.replace(/^\//, '') || 'site.html';
    if (!/^[\w.-]+$/.test(name) || !existsSync(join(fixtures, name))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no fixture ${name}`);
      return;
    }
    const ext = name.split('.').pop();
    let body = readFileSync(join(fixtures, name));
    if (ext === 'html') body = body.toString('utf8').replaceAll('SWITCHBOARD_URL', baseUrl);
    res.writeHead(200, { 'Content-Type': types[ext] || 'application/octet-stream', 'Cache-Control': 'no-store' }).end(body);
  });
  // No host: every loopback address, as `localhost` may be ::1 or 127.0.0.1 to Chromium.
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(new URL(siteUrl).port), resolve);
  });
  return server;
}

function timeout(ms, what) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Failure(`${what} took longer than ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

async function runOne(browser, file) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, baseURL: baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const pageErrors = [];
  const consoleLines = [];
  const extraContexts = [];
  // Every page a test opens fails it on an uncaught error or a CSP violation.
  const watch = (p, who) => {
    p.on('pageerror', (e) => pageErrors.push(`uncaught in ${who}: ${e.stack || e.message}`));
    p.on('console', (m) => {
      const line = `[${who} console.${m.type()}] ${m.text()}`;
      consoleLines.push(line);
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`CSP violation in ${who}: ${m.text()}`);
    });
  };
  watch(page, 'the page');

  const t = {
    page,
    context,
    baseUrl,
    user,
    password,
    personPassword,
    /** The server's SIP address (`host:port`), for tests that place calls. */
    sipAddr: process.env.SIP_ADDR || null,
    assert(cond, msg) {
      if (!cond) throw new Failure(`assertion failed: ${msg}`);
    },
    /** Waits until `fn(arg)` run in the page is truthy; returns its value. */
    async until(fn, what, arg, ms = 20000) {
      try {
        const handle = await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
        return await handle.jsonValue();
      } catch (e) {
        throw new Failure(`gave up waiting for ${what} (${ms} ms): ${e.message.split('\n')[0]}`);
      }
    },
    async signIn() {
      await page.locator('.login input[name=user]').fill(user);
      await page.locator('.login input[name=password]').fill(password);
      await page.locator('.login button[type=submit]').click();
      await page.locator('.login-screen').waitFor({ state: 'detached' });
      await page.locator('.top .user', { hasText: user }).waitFor();
    },
    /** Another browser (a context of its own, no cookies) at the server: a colleague. */
    async otherPage() {
      const other = await browser.newContext({ viewport: { width: 1400, height: 900 }, baseURL: baseUrl });
      extraContexts.push(other);
      const p = await other.newPage();
      p.setDefaultTimeout(20000);
      watch(p, `another page`);
      return p;
    },
    /** Opens the people's client (`/client/`) in `page` (t.page unless said) and signs in as `extension`. */
    async signInPerson(extension, secret = personPassword, page = t.page) {
      await page.goto(baseUrl + '/client/');
      await page.locator('.login input[name=extension]').fill(String(extension));
      await page.locator('.login input[name=password]').fill(secret);
      await page.locator('.login button[type=submit]').click();
      // Signed in, or refused: then the test fails with the screen's words.
      const refused = page.locator('.login-error:not(:empty)');
      const gone = page.locator('.login-screen').waitFor({ state: 'detached' });
      await Promise.race([gone, refused.waitFor().catch(() => gone)]);
      if (await refused.count()) throw new Failure(`${extension} could not sign in to the client: ${await refused.textContent()}`);
      await page.locator('.top .user', { hasText: `(${extension})` }).waitFor();
    },
    /**
     * A page of the test website (`name` in editor/tests/fixtures/, site.html unless
     * said), in a browser context of its own: another visitor, on another origin.
     */
    async sitePage(name = 'site.html', options = {}) {
      if (!siteUrl) throw new Failure('SITE_URL is not set: the test website is not served (tests/editor_browser.rs sets it)');
      const visitor = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options });
      extraContexts.push(visitor);
      const site = await visitor.newPage();
      site.setDefaultTimeout(20000);
      watch(site, `the site page ${name}`);
      await site.goto(`${siteUrl}/${name}`);
      return site;
    },
    async screenshot(name, of = page) {
      mkdirSync(screenshotDir, { recursive: true });
      const path = join(screenshotDir, `${name}.png`);
      await of.screenshot({ path });
      console.log(`    screenshot: ${path}`);
    },
  };

  const started = Date.now();
  const limit = timeout(timeoutMs, file);
  let error = null;
  try {
    const test = (await import(pathToFileURL(join(here, file)).href)).default;
    if (typeof test !== 'function') throw new Failure(`${file} does not export a default async function (t)`);
    await page.goto(baseUrl + '/');
    await Promise.race([test(t), limit.promise]);
    if (pageErrors.length) throw new Failure(pageErrors.join('\n'));
  } catch (e) {
    error = e;
  } finally {
    limit.cancel();
  }
  if (error) {
    const shot = join(failureDir, `switchboard-failed-${file.replace(/\.test\.mjs$/, '')}.png`);
    try {
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot });
    } catch {
      /* the page may be gone */
    }
    console.log(`FAIL ${file} (${Date.now() - started} ms)`);
    console.log(`  ${error instanceof Failure ? error.message : error.stack || error}`.replace(/\n/g, '\n  '));
    if (pageErrors.length) console.log(`  page errors:\n    ${pageErrors.join('\n    ')}`);
    console.log(`  the page at ${page.url()}; its last console lines:`);
    for (const line of consoleLines.slice(-15)) console.log(`    ${line}`);
    console.log(`  a screenshot of the failure: ${shot}`);
  } else {
    console.log(`ok   ${file} (${Date.now() - started} ms)`);
  }
  for (const other of extraContexts) await other.close();
  await context.close();
  return !error;
}

const browser = await chromium.launch({ executablePath, args: ['--disable-gpu'] });
let site = null;
let failed = 0;
try {
  site = await startSite();
  for (const file of files) {
    if (!(await runOne(browser, file))) failed++;
  }
} finally {
  if (site) site.close();
  await browser.close();
}
console.log(`${files.length - failed} passed, ${failed} failed (${files.join(', ')})`);
process.exit(failed ? 1 : 0);
