// The editor shell's file work and questions: create a file; a save the checker refuses
// (422) writes nothing until "Save anyway"; a save over a file changed on disk since it
// was opened (409) shows the difference and writes nothing until the admin chooses;
// rename and delete (with a confirmation); go to definition with F12 and Ctrl-click into
// another file; the hover text of a step.

const NEW = 'extra.dial';
const RENAMED = 'extra2.dial';
const BROKEN = 'flow extra_broken { goto nowhere_at_all }';

/** The file on disk as the API has it (`null` when it is not there). */
async function disk(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch('/api/files/' + p);
    return r.status === 200 ? r.json() : null;
  }, path);
}

/** Replaces the open file's text, as if typed in one go. */
async function replaceText(page, text) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  // Deleted first: Chromium's own editing, typing over a selection of coloured text,
  // tries a `style` attribute the page's CSP refuses (harmless: the editor redraws).
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(text);
}

/** The middle of the word `word` on the drawn line holding `lineText`, for clicks and hovers. */
async function wordAt(page, lineText, word) {
  await page.locator('.cm-line', { hasText: lineText }).first().waitFor();
  // The editor scrolls and lays out on animation frames; measure after they settled.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate(
    ({ lineText, word }) => {
      const line = [...document.querySelectorAll('.cm-line')].find((l) => l.textContent.includes(lineText));
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        // The whole word: `after_hours`, not the end of `is_after_hours`.
        const found = new RegExp(`(^|\\W)(${word})(?!\\w)`).exec(node.textContent);
        if (!found) continue;
        const at = found.index + found[1].length;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + word.length);
        const box = range.getBoundingClientRect();
        return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
      }
      return null;
    },
    { lineText, word },
  );
}

async function dialogButton(page, title, label) {
  const dialog = page.locator('.dialog', { has: page.locator('h2', { hasText: title }) });
  await dialog.waitFor();
  return dialog.locator('button', { hasText: label });
}

export default async function (t) {
  const { page } = t;
  await t.signIn();

  // Create a file: it is on disk at once, listed, and open.
  await page.locator('.side-head button', { hasText: 'New' }).click();
  await page.locator('.dialog input').fill(NEW);
  await page.locator('.dialog button', { hasText: 'OK' }).click();
  await page.locator(`.file[data-path="${NEW}"]`).waitFor();
  await page.locator('.tab.active', { hasText: NEW }).waitFor();
  const created = await disk(page, NEW);
  t.assert(created && created.text === `# ${NEW}\n`, `${NEW} is on disk with its first line: ${JSON.stringify(created)}`);

  // A save the plan check refuses: the errors are shown and nothing is written...
  await replaceText(page, `# ${NEW}\n${BROKEN}\n`);
  await page.locator('.editor-bar button', { hasText: 'Save' }).click();
  const keep = await dialogButton(page, `${NEW} was not saved`, 'Keep editing');
  const listed = await page.locator('.dialog .problem').first().textContent();
  t.assert(listed.includes(`${NEW}:2:`) && listed.includes('nowhere_at_all'), `the refusal names the error: ${listed}`);
  await keep.click();
  t.assert((await disk(page, NEW)).text === created.text, 'a refused save wrote nothing');
  await page.locator('.tab.active.dirty', { hasText: NEW }).waitFor();

  // ...unless the admin insists; then the server reports the reload refused.
  await page.keyboard.press('Control+s');
  await (await dialogButton(page, `${NEW} was not saved`, 'Save anyway')).click();
  await page.locator('.tab.active:not(.dirty)', { hasText: NEW }).waitFor();
  t.assert((await disk(page, NEW)).text.includes(BROKEN), '"Save anyway" wrote the file');
  await page.locator('.status-reload.refused').waitFor();

  // Someone else changes the file on disk while it is edited here.
  await replaceText(page, `# ${NEW}, mine\n`);
  const theirs = `# ${NEW}, theirs\n`;
  const written = await page.evaluate(
    async ({ path, text }) => {
      const session = await (await fetch('/api/session')).json();
      const now = await (await fetch('/api/files/' + path)).json();
      const r = await fetch('/api/files/' + path, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf },
        body: JSON.stringify({ text, base_hash: now.hash, force: false }),
      });
      return r.status;
    },
    { path: NEW, text: theirs },
  );
  t.assert(written === 200, `the other write went through: ${written}`);

  // Saving now shows the difference and overwrites nothing until the admin chooses.
  await page.keyboard.press('Control+s');
  const cancel = await dialogButton(page, `${NEW} changed on disk`, 'Keep editing');
  const removed = await page.locator('.dialog .diff-line.removed').allTextContents();
  const added = await page.locator('.dialog .diff-line.added').allTextContents();
  t.assert(removed.some((l) => l.includes('theirs')), `the disk's line is shown as only on disk: ${removed}`);
  t.assert(added.some((l) => l.includes('mine')), `the editor's line is shown as only here: ${added}`);
  t.assert((await disk(page, NEW)).text === theirs, 'nothing is overwritten while the admin decides');
  await cancel.click();
  t.assert((await disk(page, NEW)).text === theirs, '"Keep editing" overwrote nothing');
  await page.keyboard.press('Control+s');
  await (await dialogButton(page, `${NEW} changed on disk`, 'Overwrite the disk with mine')).click();
  await page.locator('.tab.active:not(.dirty)', { hasText: NEW }).waitFor();
  t.assert((await disk(page, NEW)).text === `# ${NEW}, mine\n`, 'chosen, the editor\'s text is on disk');

  // Rename: the list and the tab follow.
  await page.locator(`.file[data-path="${NEW}"]`).hover();
  await page.locator(`.file[data-path="${NEW}"] button[title^="rename"]`).click();
  await page.locator('.dialog input').fill(RENAMED);
  await page.locator('.dialog button', { hasText: 'OK' }).click();
  await page.locator(`.file[data-path="${RENAMED}"]`).waitFor();
  await page.locator('.tab.active', { hasText: RENAMED }).waitFor();
  t.assert((await disk(page, NEW)) === null, `${NEW} is gone after the rename`);
  t.assert((await disk(page, RENAMED)).text === `# ${NEW}, mine\n`, `${RENAMED} has the text`);

  // Delete asks first; cancelled, the file stays; confirmed, it goes, tab and all.
  const row = page.locator(`.file[data-path="${RENAMED}"]`);
  await row.hover();
  await row.locator('button[title^="delete"]').click();
  await (await dialogButton(page, `Delete ${RENAMED}?`, 'Cancel')).click();
  t.assert((await disk(page, RENAMED)) !== null, 'a cancelled delete deletes nothing');
  await row.hover();
  await row.locator('button[title^="delete"]').click();
  await (await dialogButton(page, `Delete ${RENAMED}?`, 'Delete')).click();
  await row.waitFor({ state: 'detached' });
  await page.locator('.tab', { hasText: RENAMED }).waitFor({ state: 'detached' });
  t.assert((await disk(page, RENAMED)) === null, `${RENAMED} is deleted`);

  // Go to definition: F12 on a flow's name in routes.dial opens ivr.dial at the flow.
  await page.locator('.file[data-path="routes.dial"] .file-open').click();
  // The routes to flows are at the end of the file; the editor draws only what is near view.
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+End');
  const use = await wordAt(page, '-> flow main_menu', 'main_menu');
  await page.mouse.click(use.x, use.y);
  await page.keyboard.press('F12');
  await page.locator('.tab.active', { hasText: 'ivr.dial' }).waitFor();
  await page.locator('.cm-activeLine', { hasText: 'flow main_menu {' }).waitFor();

  // And with Ctrl-click, from routes.dial again.
  await page.locator('.tab', { hasText: 'routes.dial' }).click();
  await page.keyboard.press('Control+End');
  const other = await wordAt(page, '-> flow after_hours', 'after_hours');
  await page.keyboard.down('Control');
  await page.mouse.click(other.x, other.y);
  await page.keyboard.up('Control');
  await page.locator('.tab.active', { hasText: 'ivr.dial' }).waitFor();
  await page.locator('.cm-activeLine', { hasText: 'flow after_hours {' }).waitFor();

  // A step's hover text comes from the manual.
  const step = await wordAt(page, '    answer', 'answer');
  await page.mouse.move(step.x, step.y);
  await page.locator('.hover-text').waitFor();
  const hover = await page.locator('.hover-text').textContent();
  t.assert(hover.length > 10 && /answer/i.test(hover), `hovering "answer" explains it: ${hover}`);
}
