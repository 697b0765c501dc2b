// The Tests panel runs the plan's tests on the server: the demo plan's all pass and are
// listed; a test broken in an unsaved buffer fails, its trace is listed, and a trace
// entry opens its source line in the editor.

const TEST = "999 asks for the PIN and the right PIN followed by # opens your own mailbox";

export default async function (t) {
  const page = t.page;
  await t.signIn();
  await page.click('.panel-tab[data-panel="tests"]');

  // All pass, each listed.
  await page.click(".sb-tests-run");
  await t.until(() => document.querySelector(".sb-panel-tests .sb-summary.sb-good"), "the tests to pass", null, 60000);
  const summary = await page.textContent(".sb-panel-tests .sb-summary");
  const passed = Number(/^(\d+) passed, 0 failed$/.exec(summary)?.[1]);
  t.assert(passed > 100, `the demo plan's tests all pass and are counted, got "${summary}"`);
  const listed = await page.$$eval(".sb-test.sb-passed", (items) => items.length);
  t.assert(listed === passed, `every passed test is listed (${listed} of ${passed})`);

  // A test's place opens the test in the editor.
  const item = page.locator(`.sb-test[data-test="${TEST}"]`);
  await item.locator(".sb-test-head .sb-place").click();
  await cursorLine(t, `test "${TEST}"`);

  // Break it in the editor, unsaved: the step after `call` now expects the wrong prompt.
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  await page.keyboard.press("Shift+Home");
  await page.keyboard.type('expect play "vm-main"');
  await cursorLine(t, 'expect play "vm-main"');

  await page.click(".sb-tests-run");
  await t.until(() => document.querySelector(".sb-panel-tests .sb-summary.sb-bad"), "a test to fail", null, 60000);
  const after = await page.textContent(".sb-panel-tests .sb-summary");
  t.assert(after === `${passed - 1} passed, 1 failed`, `the unsaved change fails one test, got "${after}"`);
  const failed = page.locator(".sb-test.sb-failed");
  t.assert((await failed.getAttribute("data-test")) === TEST, "the failed test is the one changed");
  const message = await failed.locator(".sb-failure-message").textContent();
  t.assert(message.includes("vm-main"), `the failure says what was expected: ${message}`);

  // The failure's trace links to the PIN question in voicemail.dial.
  const entry = failed.locator(".sb-trace li", { hasText: "vm-enter-pin" }).first();
  const place = await entry.locator(".sb-place").textContent();
  t.assert(/^voicemail\.dial:\d+$/.test(place), `the trace entry names its plan file and line: ${place}`);
  await entry.locator(".sb-place").click();
  await cursorLine(t, 'ask "vm-enter-pin"');
}

// Waits until the editor's cursor line (CodeMirror's active line) holds `text`.
function cursorLine(t, text) {
  return t.until(
    (want) => document.querySelector(".cm-activeLine")?.textContent.includes(want),
    `the editor's cursor on the line with ${text}`,
    text,
  );
}
