// The Calls panel lists a real call while it is live and after it ended, without a
// reload (the server's `calls` event), and shows its trace: an entry opens its line in
// the editor while the call's plan version is the live one, and shows that line in the
// version's own text, read-only, once the plan has moved on.
//
// The call is placed by sipp, driven from Node (`sipp_phone.mjs`): extension 101, its SIP
// password set through the Office API first, dials 999 and hangs up once the page saw it.

import { Phone } from "./sipp_phone.mjs";

const PASSWORD = "amber kettle orchard 31";

export default async function (t) {
  const page = t.page;
  const sip = t.sipAddr || process.env.SIP_ADDR;
  t.assert(sip, "the SIP address of the server under test (t.sipAddr or SIP_ADDR)");
  await t.signIn();
  await page.click('.panel-tab[data-panel="calls"]');
  await page.locator(".sb-panel-calls .sb-calls-live", { hasText: "No calls right now." }).waitFor();

  const put = await api(page, "PUT", "/api/office/users/101/password", { password: PASSWORD });
  t.assert(put === 204, `101's SIP password is set (${put})`);

  const phone = await Phone.open(sip);
  try {
    const call = await phone.call("101", PASSWORD, "999");
    const live = page.locator(".sb-panel-calls .sb-calls-live tr[data-call]", { hasText: "999" });
    await live.waitFor();
    t.assert((await live.textContent()).includes("101"), "the live call shows its caller");
    await phone.hangUp(call);
  } finally {
    phone.close();
  }
  await page.locator(".sb-panel-calls .sb-calls-live", { hasText: "No calls right now." }).waitFor();
  const recent = page.locator(".sb-panel-calls .sb-calls-recent tr[data-call]", { hasText: "999" }).first();
  await recent.waitFor();

  // Its trace: the PIN question, linked to its line.
  await recent.locator(".sb-link").click();
  const entry = page.locator(".sb-call-detail .sb-trace li", { hasText: "vm-enter-pin" }).first();
  await entry.waitFor();
  t.assert((await entry.locator(".sb-place").textContent()) === "voicemail.dial:7", "the trace entry is voicemail.dial:7");
  await entry.locator(".sb-place").click();
  await t.until(
    () => document.querySelector(".cm-activeLine")?.textContent.includes('ask "vm-enter-pin"'),
    "the PIN question's line open in the editor (the call ran on the live plan)",
  );

  // A new plan version (a comment added at the end of voicemail.dial): the call's
  // version is old now, and its line is shown in the version's text.
  const version = Number(await page.getAttribute(".sb-panel-calls .sb-call-facts [data-version]", "data-version"));
  t.assert(version >= 1, `the call names the plan version it ran on (${version})`);
  const file = await page.evaluate(() => fetch("/api/files/voicemail.dial").then((r) => r.json()));
  const saved = await api(page, "PUT", "/api/files/voicemail.dial", {
    text: `${file.text}\n# A note added by the Calls panel's browser test.\n`,
    base_hash: file.hash,
    force: false,
  });
  t.assert(saved === 200, `voicemail.dial is saved (${saved})`);
  await t.until(
    (old) => Number(document.querySelector(".status-plan")?.dataset.version) > old,
    "the plan version to go up",
    version,
  );
  await entry.locator(".sb-place").click();
  const source = page.locator(".sb-call-detail .sb-source");
  await source.waitFor();
  const caption = await source.locator("figcaption").textContent();
  t.assert(caption.includes(`plan version ${version}`) && caption.includes("read-only"), `the old version's text is shown: ${caption}`);
  const lit = await source.locator(".sb-source-line.sb-current").textContent();
  t.assert(lit.includes('ask "vm-enter-pin"'), `the call's line is marked in it: ${lit}`);
}

// `method path body` from the signed-in page, with its CSRF token; the status.
async function api(page, method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const session = await fetch("/api/session").then((r) => r.json());
      const r = await fetch(path, {
        method,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf },
        body: JSON.stringify(body),
      });
      return r.status;
    },
    [method, path, body],
  );
}
