// The Office panel shows the office now and the running plan: the plan's version and
// that the last reload was loaded, the trunks, and the SIP users of the plan. Setting a
// user's password shows the policy's refusal of a weak one in the user's row and takes
// a strong one, the list then saying the user has a password; Remove (confirmed) takes
// it away again.

export default async function (t) {
  const page = t.page;
  await t.signIn();
  await page.click('.panel-tab[data-panel="office"]');

  await page.waitForSelector('.sb-panel-office tr[data-user="101"]');
  const users = await page.$$eval(".sb-panel-office tr[data-user]", (rows) => rows.map((r) => r.dataset.user));
  for (const name of ["100", "101", "105", "001565AABBCC"]) {
    t.assert(users.includes(name), `the SIP users list ${name}: ${users.join(", ")}`);
  }
  const version = await page.textContent(".sb-panel-office .sb-version");
  t.assert(/^\d+$/.test(version), `the plan's version is shown: ${version}`);
  const reload = await page.textContent(".sb-panel-office .sb-last-reload");
  t.assert(reload.includes("was loaded"), `the last reload is shown: ${reload}`);
  const trunks = await page.textContent(".sb-panel-office .sb-office-trunks");
  t.assert(trunks.includes("main"), `the plan's trunk is listed: ${trunks}`);

  const row = page.locator('.sb-panel-office tr[data-user="105"]');
  await row.locator(".sb-set-password").click();
  await row.locator(".sb-new-password").fill("password");
  await row.locator('.sb-password-form button[type="submit"]').click();
  await row.locator(".sb-refusal:not(:empty)").waitFor({ timeout: 10000 });
  const refusal = await row.locator(".sb-refusal").textContent();
  t.assert(/12|short|weak|well-known|common/i.test(refusal), `the policy's words are shown: ${refusal}`);

  await row.locator(".sb-new-password").fill("lobby tulip harbour 7");
  await row.locator('.sb-password-form button[type="submit"]').click();
  await t.until(
    () => document.querySelector(".sb-panel-office .sb-office-note")?.textContent.includes("password of 105 was set"),
    "the panel to say the password was set",
  );
  await t.until(() => {
    const cells = document.querySelectorAll('.sb-panel-office tr[data-user="105"] td');
    return cells.length > 2 && cells[2].textContent === "set";
  }, "105 listed with a password");

  // Remove asks first, then takes the password away again.
  page.once("dialog", (d) => d.accept());
  await row.locator(".sb-remove-user").click();
  await t.until(() => {
    const cells = document.querySelectorAll('.sb-panel-office tr[data-user="105"] td');
    return cells.length > 2 && cells[2].textContent === "none";
  }, "105 listed without a password after Remove");
}
