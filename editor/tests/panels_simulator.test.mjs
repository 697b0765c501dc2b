// The Simulator panel walks a call through the plan with its current step lit in the
// editor: 101 dials 999 and the PIN question of voicemail.dial is lit, its prompt is
// fetched to be played; 1 2 3 4 # (101's PIN, on the keypad and the keyboard) moves the
// light to the voicemail menu; hanging up puts the light out. A call to a desk offers
// what the rung phone does, and its busy leads to the desk's voicemail.

export default async function (t) {
  const page = t.page;
  await page.setViewportSize({ width: 1400, height: 1100 });
  await t.signIn();
  await page.click('.panel-tab[data-panel="simulator"]');

  await page.selectOption(".sb-caller-kind", "extension");
  await page.fill(".sb-caller-extension", "101");
  await page.fill(".sb-dial", "999");
  const prompt = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/prompts/en/vm-enter-pin", {
    timeout: 10000,
  });
  await page.click(".sb-call");

  await litLine(t, 'ask "vm-enter-pin"');
  const lit = await page.textContent(".sb-steps .sb-current .sb-place");
  t.assert(lit === "voicemail.dial:7", `the current step is the PIN question at voicemail.dial:7, got ${lit}`);
  const status = await page.textContent(".sb-sim-status");
  t.assert(status.includes("keys"), `the call waits for the caller's keys: ${status}`);
  const wav = await prompt;
  t.assert(wav.ok(), `the PIN prompt is served to the browser (${wav.status()})`);
  t.assert(
    (wav.headers()["content-type"] || "").startsWith("audio/wav"),
    `the prompt is a WAV: ${wav.headers()["content-type"]}`,
  );
  await t.until(
    () => document.querySelector(".sb-wait-timeout:not(:disabled)")?.textContent.includes("10s"),
    "the timeout button to offer the line's 10s",
  );

  // 101's PIN key by key: the first on the keypad, the rest on the computer's keys,
  // which work as the keypad's once it has the focus.
  await page.click('.sb-key[data-key="1"]');
  for (const key of ["2", "3", "4", "#"]) await page.keyboard.press(key);
  await litLine(t, 'menu "vm-main"');
  const actions = await page.$$eval(".sb-steps .sb-action", (items) => items.map((i) => i.textContent));
  t.assert(actions.length === 5 && actions[4].endsWith("press #"), `each key is listed: ${actions.join(" | ")}`);
  const steps = await page.$$eval(".sb-steps .sb-step-text", (items) => items.map((i) => i.textContent));
  t.assert(
    steps.some((s) => s.startsWith("mailbox open 101")),
    `the PIN opened 101's mailbox: ${steps.join(" | ")}`,
  );
  t.assert(!steps.some((s) => s.includes("1234")), "the PIN is never shown in the steps");
  await t.screenshot("simulator");

  await page.click(".sb-hangup");
  await t.until(() => !document.querySelector(".cm-lit-line"), "the light out after hanging up");

  // A call that rings a desk: the far end's choices name it; busy sends the call on to
  // the desk's voicemail, as the plan says.
  await page.fill(".sb-dial", "102");
  await page.click(".sb-call");
  const farEnd = page.locator(".sb-far-end:not([hidden])");
  await farEnd.waitFor();
  t.assert((await farEnd.textContent()).includes("Ringing extension 102"), "the far end rung is named");
  await farEnd.locator(".sb-far-end-choice", { hasText: "busy" }).click();
  await page.locator(".sb-steps .sb-action", { hasText: "extension 102 is busy" }).waitFor();
  await page.locator(".sb-steps .sb-step-text", { hasText: "voicemail 102" }).waitFor();
}

// Waits until the line the simulator lit in the editor holds `text`.
function litLine(t, text) {
  return t.until(
    (want) => document.querySelector(".cm-lit-line")?.textContent.includes(want),
    `the line with ${text} lit in the editor`,
    text,
  );
}
