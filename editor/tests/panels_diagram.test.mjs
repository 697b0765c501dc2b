// The Diagram panel draws a flow: the main menu with its keys as labelled edges; a
// node's click opens its line, and the node of the cursor's line is marked; a node
// leading to another flow opens that flow's diagram (and Back returns); moving the
// cursor into another flow redraws.

export default async function (t) {
  const page = t.page;
  await page.setViewportSize({ width: 1400, height: 1500 });
  await t.signIn();
  await page.click('.panel-tab[data-panel="diagram"]');

  await page.fill(".sb-flow-name", "main_menu");
  await page.click('.sb-flow-by-name button[type="submit"]');
  await flowShown(t, "main_menu");

  const keys = await page.$$eval(".sb-diagram .sb-edge-label", (labels) => labels.map((l) => l.dataset.label));
  for (const key of ["1", "2", "3", "0"]) {
    t.assert(
      keys.some((k) => k.split(", ").includes(key)),
      `the key ${key} labels an edge out of the menu: ${keys.join(" | ")}`,
    );
  }
  const nodes = await page.$$eval(".sb-diagram .sb-node", (ns) => ns.map((n) => n.dataset.label));
  for (const target of ["queue 800", "queue 801"]) {
    t.assert(nodes.some((n) => n.includes(target)), `a node leads to ${target}: ${nodes.join(" | ")}`);
  }
  t.assert(
    (await page.$$eval(".sb-diagram .sb-node-menu", (ns) => ns.length)) === 1,
    "the menu is drawn as a menu node",
  );
  // Every box lies inside the drawing, none on another.
  const overlaps = await page.evaluate(() => {
    const boxes = [...document.querySelectorAll(".sb-diagram .sb-node rect")].map((r) => r.getBoundingClientRect());
    let n = 0;
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
      }
    return n;
  });
  t.assert(overlaps === 0, `no two nodes overlap (${overlaps} do)`);

  // A node opens its line in the editor.
  await page.locator(".sb-diagram .sb-node-menu").click();
  await cursorLine(t, 'menu "main-greeting"');
  // The drawing follows: the cursor's node is marked.
  await t.until(() => document.querySelector(".sb-diagram .sb-node-menu.sb-node-here"), "the menu marked as the cursor's node");
  t.assert((await page.$$eval(".sb-diagram .sb-node-here", (ns) => ns.length)) === 1, "only the cursor's node is marked");
  await t.screenshot("diagram");

  // The cursor moving into another flow redraws: ivr.dial ends with directory_line, whose
  // last step is two lines above the end (`directory`, `}`, and the empty last line).
  await page.keyboard.press("Control+End");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("ArrowUp");
  await cursorLine(t, "directory");
  await flowShown(t, "directory_line");

  // A flow target opens that flow's diagram; Back returns.
  await page.fill(".sb-flow-name", "voicemail_login");
  await page.click('.sb-flow-by-name button[type="submit"]');
  await flowShown(t, "voicemail_login");
  await page.locator(".sb-diagram .sb-node-flow", { hasText: "voicemail_main" }).first().click();
  await flowShown(t, "voicemail_main");
  await page.click(".sb-back");
  await flowShown(t, "voicemail_login");
}

function flowShown(t, name) {
  return t.until(
    (want) => document.querySelector(".sb-panel-diagram .sb-flow")?.textContent === want,
    `the diagram of ${name}`,
    name,
  );
}

function cursorLine(t, text) {
  return t.until(
    (want) => document.querySelector(".cm-activeLine")?.textContent.includes(want),
    `the editor's cursor on the line with ${text}`,
    text,
  );
}
