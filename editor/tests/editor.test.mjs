// The editor shell, as an admin uses it: sign in; open office.dial; type a mistake and see
// its diagnostic at its line; complete a flow name; save the fix and watch the plan version
// in the status bar go up by itself (pushed by /api/events); sign out and find the API
// refusing, the old session cookie included.

const MISTAKE = 'dial "555" -> flow mian_menu';
const FIXED = 'dial "555" -> flow main_menu';

export default async function (t) {
  const { page } = t;

  // Signed out, the app asks for a sign-in and the API answers nothing.
  await page.locator('.login-screen').waitFor();
  t.assert((await page.evaluate(() => fetch('/api/plan').then((r) => r.status))) === 401, 'the API refuses before sign-in');
  await t.signIn();

  // The status bar shows the running plan as soon as the event stream opens.
  const before = Number(await t.until(() => document.querySelector('.status-plan')?.dataset.version, 'the plan version in the status bar'));
  await t.until(() => document.querySelector('.status-live.live'), 'the event stream to be live');

  // Open office.dial from the file list.
  await page.locator('.file[data-path="office.dial"] .file-open').click();
  await page.locator('.tab.active', { hasText: 'office.dial' }).waitFor();
  await page.locator('.cm-content', { hasText: 'Front Desk' }).waitFor();
  const disk = await page.evaluate(() => fetch('/api/files/office.dial').then((r) => r.json()));
  // The line the mistake goes on: the last line of the file (after its final newline).
  const lines = disk.text.split('\n');
  const endsWithNewline = disk.text.endsWith('\n');
  const mistakeLine = endsWithNewline ? lines.length : lines.length + 1;

  // Type the mistake at the end of the file.
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  if (!endsWithNewline) await page.keyboard.press('Enter');
  await page.keyboard.type(MISTAKE, { delay: 5 });
  await page.keyboard.press('Escape'); // close the completion list typing opened
  await page.locator('.tab.active.dirty', { hasText: 'office.dial' }).waitFor();

  // The checker finds it, at its line: in the Problems list, underlined in the text, and
  // on the help line for the cursor's line, with the fix.
  const problem = page.locator('.problem[data-file="office.dial"][data-code="unknown-flow"]');
  await problem.waitFor();
  t.assert((await problem.getAttribute('data-line')) === String(mistakeLine), `the diagnostic is on line ${mistakeLine}, not ${await problem.getAttribute('data-line')}`);
  t.assert((await problem.textContent()).includes(`office.dial:${mistakeLine}:`), `the problem names office.dial:${mistakeLine}`);
  await page.locator('.cm-lintRange-error', { hasText: 'mian_menu' }).waitFor();
  const help = await page.locator('.help-line').textContent();
  t.assert(help.includes(`office.dial:${mistakeLine}:`) && help.includes('main_menu'), `the help line names the place and the fix: ${help}`);
  // Its underline is on the line the cursor is on (the line typed).
  const underlinedLine = await page.evaluate(() => {
    const range = document.querySelector('.cm-lintRange-error');
    return range.closest('.cm-line').textContent;
  });
  t.assert(underlinedLine === MISTAKE, `the underline is on the typed line, not on "${underlinedLine}"`);
  await t.screenshot('editor');

  // A click on the problem jumps to it: the cursor goes to that line.
  await page.locator('.cm-content').click({ position: { x: 5, y: 5 } });
  await problem.click();
  await t.until((line) => document.querySelector('.help-line')?.textContent.includes(`office.dial:${line}:`), 'the cursor back on the mistake after a click on the problem', mistakeLine);

  // Complete the flow name: remove the misspelt name, type its start, take the suggestion.
  await page.keyboard.press('End');
  for (let i = 0; i < 'mian_menu'.length; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type('mai', { delay: 20 });
  const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'main_menu' });
  await option.waitFor();
  const detail = await page.locator('.cm-tooltip-autocomplete li').first().textContent();
  t.assert(detail.includes('main_menu'), `the first suggestion is main_menu: ${detail}`);
  await option.click();
  await t.until((fixed) => [...document.querySelectorAll('.cm-line')].some((l) => l.textContent === fixed), 'the completed line', FIXED);

  // Fixed: the checker finds nothing any more.
  await page.locator('.problems-none').waitFor();
  await t.until(() => !document.querySelector('.cm-lintRange-error'), 'the underline to go');

  // Save with the keyboard; the file on disk gets the fix.
  await page.keyboard.press('Control+s');
  await page.locator('.tab.active:not(.dirty)', { hasText: 'office.dial' }).waitFor();
  const saved = await page.evaluate(() => fetch('/api/files/office.dial').then((r) => r.json()));
  t.assert(saved.text.includes(FIXED), 'office.dial on disk holds the fixed line');

  // The server reloads the plan and tells the page: the version goes up with no action.
  const after = Number(
    await t.until((v) => {
      const now = Number(document.querySelector('.status-plan')?.dataset.version);
      return now > v ? now : 0;
    }, 'the plan version in the status bar to go up by itself', before),
  );
  t.assert(after === before + 1, `the plan went from version ${before} to ${before + 1}, not ${after}`);
  const reload = await page.locator('.status-reload').textContent();
  t.assert(reload.includes(`loaded version ${after}`), `the status bar says the reload loaded it: ${reload}`);

  // Sign out: the sign-in screen comes back and the API refuses, even the old cookie.
  const cookies = await t.context.cookies();
  const session = cookies.find((c) => c.name === 'switchboard_session');
  t.assert(session, 'signed in, the browser holds the session cookie');
  await page.locator('.top button', { hasText: 'Sign out' }).click();
  await page.locator('.login-screen').waitFor();
  const status = await page.evaluate(() => fetch('/api/plan').then((r) => r.status));
  t.assert(status === 401, `after sign-out /api/plan answers 401, not ${status}`);
  const replay = await t.context.request.get(`${t.baseUrl}/api/plan`, {
    headers: { Cookie: `switchboard_session=${session.value}` },
  });
  t.assert(replay.status() === 401, `the signed-out session's cookie is refused too, not ${replay.status()}`);
}
