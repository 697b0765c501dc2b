// Saving a file: `PUT /api/files/{path}` with the hash the file had when opened. The
// server checks the whole plan with the change first and writes nothing when
// - the plan would have errors (422): they are shown, and the admin may save anyway
//   (`force`; hot reload then refuses the plan as it does for any bad save), or
// - the file changed on disk since it was opened (409): the admin sees the difference
//   between their text and the disk's and chooses; nothing is overwritten before that.

import * as api from '../shared/api.js';
import { h, dialog } from '../shared/dom.js';
import { lineDiff } from './diff.js';
import { placeText } from './diagnostics.js';

function diagnosticList(diagnostics) {
  return h(
    'ul.problems.in-dialog',
    {},
    diagnostics.map((d) =>
      h(
        'li.problem.' + d.severity,
        {},
        h('span.severity', {}, d.severity),
        h('span.place', {}, placeText(d)),
        h('span.message', {}, d.message),
        d.help ? h('span.help', {}, d.help) : null,
      ),
    ),
  );
}

/** The disk's text against the admin's, line by line. */
export function diffView(disk, mine) {
  const rows = lineDiff(disk, mine);
  const changed = rows.filter((r) => r.kind !== 'same').length;
  return h(
    'div',
    {},
    h(
      'p',
      {},
      `Lines marked − are only on disk; lines marked + are only in your editor (${changed} lines differ).`,
    ),
    h(
      'pre.diff',
      {},
      rows.map((r) =>
        h('div.diff-line.' + r.kind, {}, r.kind === 'removed' ? '− ' : r.kind === 'added' ? '+ ' : '  ', r.text),
      ),
    ),
  );
}

/**
 * `save(path)` for the files in `workspace`; `say(text)` reports the outcome and
 * `afterSave(path, diagnostics)` runs after a successful write.
 */
export function saver({ workspace, say, afterSave }) {
  async function save(path, { force = false, baseHash } = {}) {
    const doc = workspace.get(path);
    if (!doc) return false;
    const text = doc.state.doc.toString();
    const base = baseHash === undefined ? doc.hash : baseHash;
    say(`saving ${path}…`);
    const answer = await api.send('PUT', api.filePath(path), { text, base_hash: base, force });
    if (answer.status === 200) {
      workspace.saved(path, text, answer.body.hash);
      say(`saved ${path}${force ? ' (with errors, as asked)' : ''}`);
      afterSave(path, answer.body.diagnostics || []);
      return true;
    }
    if (answer.status === 422) {
      say(`${path} not saved: the plan would have errors`);
      const diagnostics = answer.body.diagnostics || [];
      const choice = await dialog({
        title: `${path} was not saved`,
        wide: true,
        body: h(
          'div',
          {},
          h('p', {}, answer.body.error || 'the plan with this change has errors'),
          diagnosticList(diagnostics.filter((d) => d.severity === 'error')),
          h(
            'p.muted',
            {},
            'Saving anyway writes the file; the server then keeps running the plan it has and reports the reload as refused until the errors are fixed.',
          ),
        ),
        buttons: [
          { label: 'Keep editing', value: 'edit', kind: 'primary' },
          { label: 'Save anyway', value: 'force', kind: 'danger' },
        ],
      });
      if (choice === 'force') return save(path, { force: true, baseHash: base });
      return false;
    }
    if (answer.status === 409) {
      const current = (answer.body && answer.body.current) || { text: '', hash: null };
      say(`${path} not saved: it changed on disk since you opened it`);
      const choice = await dialog({
        title: `${path} changed on disk`,
        wide: true,
        body: h(
          'div',
          {},
          h('p', {}, answer.body.error || 'the file on disk is not the one you opened'),
          diffView(current.text, text),
        ),
        buttons: [
          { label: 'Keep editing (save nothing)', value: 'cancel', kind: 'primary' },
          { label: "Take the disk's version", value: 'theirs' },
          { label: 'Overwrite the disk with mine', value: 'mine', kind: 'danger' },
        ],
      });
      if (choice === 'mine') return save(path, { force, baseHash: current.hash });
      if (choice === 'theirs') {
        workspace.replace(path, current.text, current.hash);
        say(`${path}: now the disk's version`);
      }
      return false;
    }
    if (answer.status === 401) {
      // The sign-in screen is up (api.js saw the 401); the text stays here to save after.
      say(`${path} not saved: the session ended; sign in, then save again`);
      return false;
    }
    say(`${path} not saved: ${api.errorText(answer)}`);
    await dialog({
      title: `${path} was not saved`,
      body: api.errorText(answer),
      buttons: [{ label: 'OK', value: 'ok', kind: 'primary' }],
    });
    return false;
  }

  return { save };
}
