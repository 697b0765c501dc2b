// A session that ends while the admin is editing (signed out elsewhere, or expired): the
// next request the page makes gets 401, the sign-in screen comes back over the editor, and
// after signing in again the unsaved text is still there and saves. The page reloaded
// with a live session goes straight to the editor.

const LINE = '# typed while the session ended';

export default async function (t) {
  const { page } = t;
  await t.signIn();
  await page.locator('.file[data-path="voicemail.dial"] .file-open').click();
  await page.locator('.tab.active', { hasText: 'voicemail.dial' }).waitFor();

  // A reload with the session alive: no sign-in screen.
  await page.reload();
  await page.locator('.top .user', { hasText: t.user }).waitFor();
  t.assert((await page.locator('.login-screen').count()) === 0, 'a live session skips the sign-in screen');
  await page.locator('.file[data-path="voicemail.dial"] .file-open').click();
  await page.locator('.tab.active', { hasText: 'voicemail.dial' }).waitFor();

  // Unsaved work in the editor.
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(LINE);
  await page.locator('.tab.active.dirty', { hasText: 'voicemail.dial' }).waitFor();

  // The session ends behind the page's back (its own cookie and token, from outside).
  const session = await page.evaluate(() => fetch('/api/session').then((r) => r.json()));
  const cookie = (await t.context.cookies()).find((c) => c.name === 'switchboard_session');
  const out = await t.context.request.post(`${t.baseUrl}/api/logout`, {
    headers: { Cookie: `switchboard_session=${cookie.value}`, 'X-CSRF-Token': session.csrf },
  });
  t.assert(out.status() === 204, `the session was ended from outside: ${out.status()}`);

  // The next thing the page asks is refused (the event stream may notice first; else the
  // save does): the sign-in screen is back, over the editor.
  await page.keyboard.press('Control+s');
  await page.locator('.login-screen').waitFor();
  const why = await page.locator('.login-error').textContent();
  t.assert(/session has ended/i.test(why), `the sign-in screen says why: ${why}`);

  // Signed in again, the text typed is still there, and saves.
  await t.signIn();
  await page.locator('.tab.active.dirty', { hasText: 'voicemail.dial' }).waitFor();
  t.assert(
    await page.evaluate((line) => [...document.querySelectorAll('.cm-line')].some((l) => l.textContent === line), LINE),
    'the unsaved line survived the new sign-in',
  );
  await page.keyboard.press('Control+s');
  await page.locator('.tab.active:not(.dirty)', { hasText: 'voicemail.dial' }).waitFor();
  const saved = await page.evaluate(() => fetch('/api/files/voicemail.dial').then((r) => r.json()));
  t.assert(saved.text.includes(LINE), 'the line is on disk');
  await t.until(() => document.querySelector('.status-live.live'), 'the event stream to be live again');
}
