// Runs the editor's browser tests (editor/tests/*.test.mjs) in Debian's Chromium, driven
// by playwright-core, against a running `switchboard run`. `cargo test` runs this through
// tests/editor_browser.rs, which starts the server; by hand:
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD='...' node editor/tests/run.mjs [NAME...]
//
// Each test file exports `default async function (t)` and gets a fresh browser context
// (no cookies) with `t.page` open at the app, signed out. `t` also has `signIn()`,
// `baseUrl`, `screenshot(name)`, `assert(cond, msg)`, `until(fn, what)` (wait for a
// condition in the page) and `context`. A test fails on a thrown error, an uncaught error
// in the page, or a Content-Security-Policy violation. Exit status: 0 when all passed, 1
// when one failed, 2 when the run could not start; NAME arguments run only the files whose
// name holds one. A failed test leaves a screenshot in FAILURE_DIR (the temp folder).
//
// Environment: BASE_URL (required), ADMIN_USER (admin), ADMIN_PASSWORD (required),
// CHROMIUM (/usr/bin/chromium), SCREENSHOT_DIR (docs/ of the repository), TEST_TIMEOUT_MS
// (90000), SIP_ADDR (the server's SIP host:port, as t.sipAddr).

import { chromium } from 'playwright-core';
import { readdirSync, mkdirSync, existsSync } from 'node:fs';
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
  page.on('pageerror', (e) => pageErrors.push(`uncaught in the page: ${e.stack || e.message}`));
  page.on('console', (m) => {
    const line = `[console.${m.type()}] ${m.text()}`;
    consoleLines.push(line);
    if (/Content Security Policy/i.test(m.text())) pageErrors.push(`CSP violation: ${m.text()}`);
  });

  const t = {
    page,
    context,
    baseUrl,
    user,
    password,
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
    async screenshot(name) {
      mkdirSync(screenshotDir, { recursive: true });
      const path = join(screenshotDir, `${name}.png`);
      await page.screenshot({ path });
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
  await context.close();
  return !error;
}

const browser = await chromium.launch({ executablePath, args: ['--disable-gpu'] });
let failed = 0;
try {
  for (const file of files) {
    if (!(await runOne(browser, file))) failed++;
  }
} finally {
  await browser.close();
}
console.log(`${files.length - failed} passed, ${failed} failed (${files.join(', ')})`);
process.exit(failed ? 1 : 0);
