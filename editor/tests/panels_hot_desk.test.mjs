// The Office panel follows the office without a reload and logs a hot-desk user out: a
// hot-desk phone logs in as 101 the way a person does (it dials *77*101* and keys 101's
// PIN, 1234#); the login appears by itself (the server's `office` event); Log out,
// confirmed, ends it and the row goes.
//
// The phone is sipp, driven from Node, its keys RFC 4733 events (`sipp_phone.mjs`); its SIP
// password is set through the Office API first.

import { Phone } from "./sipp_phone.mjs";

const DEVICE = "001565AABBCC";
const PASSWORD = "copper meadow violin 58";

export default async function (t) {
  const page = t.page;
  const sip = t.sipAddr || process.env.SIP_ADDR;
  t.assert(sip, "the SIP address of the server under test (t.sipAddr or SIP_ADDR)");
  await t.signIn();
  await page.click('.panel-tab[data-panel="office"]');
  const desks = page.locator('.sb-panel-office .sb-office-section[data-section="Hot desks"]');
  await desks.locator("text=Nobody is logged in to a hot-desk phone.").waitFor();

  const put = await page.evaluate(
    async ([device, password]) => {
      const session = await fetch("/api/session").then((r) => r.json());
      const r = await fetch(`/api/office/users/${device}/password`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf },
        body: JSON.stringify({ password }),
      });
      return r.status;
    },
    [DEVICE, PASSWORD],
  );
  t.assert(put === 204, `the phone's SIP password is set (${put})`);

  const phone = await Phone.open(sip);
  try {
    const call = await phone.call(DEVICE, PASSWORD, "*77*101*");
    await phone.press(call, "1234#");
    await phone.hungUp(call);
  } finally {
    phone.close();
  }

  const row = desks.locator("tr", { hasText: DEVICE });
  await row.waitFor();
  t.assert((await row.textContent()).includes("101"), `the phone is listed with 101: ${await row.textContent()}`);

  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    d.accept();
  });
  await row.locator(".sb-logout").click();
  await desks.locator("text=Nobody is logged in to a hot-desk phone.").waitFor();
  t.assert(asked.includes(DEVICE) && asked.includes("101"), `Log out asked first, naming both: ${asked}`);
  const note = await page.textContent(".sb-panel-office .sb-office-note");
  t.assert(note.includes(`101 was logged out of ${DEVICE}`), `the panel says what it did: ${note}`);
}
