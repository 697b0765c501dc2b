// The plan folder's files: the list, and create, rename and delete. Each change goes to
// the server, which checks the plan with it first (like a save); a refused one shows why
// and, where the server allows it, offers to go ahead anyway.

import * as api from '../shared/api.js';
import { h, fill, dialog } from '../shared/dom.js';
import { placeText } from './diagnostics.js';

function nameError(name) {
  if (!name) return 'write a file name, like queues.dial';
  if (!name.endsWith('.dial')) return `“${name}” does not end in .dial; plan files do`;
  if (name.startsWith('/') || name.split('/').includes('..')) return 'name a file inside the plan folder, without / at the start or ..';
  return null;
}

async function askName(title, value) {
  for (;;) {
    const answer = await dialog({
      title,
      input: { label: 'File name (in the plan folder)', value },
      buttons: [
        { label: 'OK', value: 'ok', kind: 'primary' },
        { label: 'Cancel', value: 'cancel' },
      ],
    });
    if (!answer || answer.value !== 'ok') return null;
    const problem = nameError(answer.text);
    if (!problem) return answer.text;
    value = answer.text;
    await dialog({ title: 'That name will not do', body: problem, buttons: [{ label: 'OK', value: 'ok', kind: 'primary' }] });
  }
}

/** Offers "go ahead anyway" for a change the plan check refused; true if chosen. */
async function refusedByCheck(what, answer) {
  const errors = (answer.body.diagnostics || []).filter((d) => d.severity === 'error');
  const choice = await dialog({
    title: `${what}: the plan would have errors`,
    wide: true,
    body: h(
      'div',
      {},
      h('p', {}, api.errorText(answer)),
      h('ul.problems.in-dialog', {}, errors.map((d) => h('li.problem.error', {}, h('span.place', {}, placeText(d)), h('span.message', {}, d.message)))),
    ),
    buttons: [
      { label: 'Cancel', value: 'cancel', kind: 'primary' },
      { label: 'Do it anyway', value: 'force', kind: 'danger' },
    ],
  });
  return choice === 'force';
}

async function tell(title, answer) {
  // A 401 brings the sign-in screen instead (api.js).
  if (answer.status === 401) return;
  await dialog({ title, body: api.errorText(answer), buttons: [{ label: 'OK', value: 'ok', kind: 'primary' }] });
}

/** The file list in `listEl`; opens files in `workspace`. */
export function fileList({ listEl, workspace, say, onRoot }) {
  let files = [];

  async function refresh() {
    const answer = await api.get('/api/files');
    if (answer.status !== 200) {
      if (answer.status !== 401) say(`could not list the plan's files: ${api.errorText(answer)}`);
      return;
    }
    files = answer.body.files;
    onRoot(answer.body.root);
    render();
    // A file open and unchanged here but changed on disk (by another admin, or a text
    // editor on the server) follows the disk.
    for (const f of files) {
      const doc = workspace.get(f.path);
      if (doc && doc.hash !== f.hash && !workspace.dirty(doc)) {
        const fresh = await api.get(api.filePath(f.path));
        if (fresh.status === 200 && !workspace.dirty(workspace.get(f.path))) {
          workspace.replace(f.path, fresh.body.text, fresh.body.hash);
        }
      }
    }
  }

  function render() {
    fill(
      listEl,
      files.map((f) =>
        h(
          'li.file' + (workspace.current() === f.path ? '.active' : ''),
          { dataset: { path: f.path } },
          h('button.file-open', { type: 'button', title: `open ${f.path}`, onclick: () => workspace.openFile(f.path) }, f.path),
          h(
            'span.file-actions',
            {},
            h('button.icon', { type: 'button', title: `rename ${f.path}`, onclick: () => rename(f) }, '✎'),
            h('button.icon', { type: 'button', title: `delete ${f.path}`, onclick: () => remove(f) }, '✕'),
          ),
        ),
      ),
    );
  }

  async function create() {
    const name = await askName('New file', 'new.dial');
    if (!name) return;
    const text = `# ${name}\n`;
    const answer = await api.send('PUT', api.filePath(name), { text, base_hash: null, force: false });
    if (answer.status !== 200) return tell(`${name} was not created`, answer);
    workspace.adopt(name, text, answer.body.hash);
    await refresh();
    await workspace.openFile(name);
    say(`created ${name}`);
  }

  async function rename(f, force = false) {
    const to = force ? f.to : await askName(`Rename ${f.path}`, f.path);
    if (!to || to === f.path) return;
    // Refused (409) if the file changed on disk since it was opened or listed here.
    const doc = workspace.get(f.path);
    const base = doc && doc.hash ? doc.hash : f.hash;
    const answer = await api.send('POST', '/api/files-rename', { from: f.path, to, base_hash: base, force });
    if (answer.status === 422 && !force) {
      if (await refusedByCheck(`Renaming ${f.path}`, answer)) return rename({ ...f, to }, true);
      return;
    }
    if (answer.status !== 200) return tell(`${f.path} was not renamed`, answer);
    workspace.renamed(f.path, to, answer.body.hash);
    say(`renamed ${f.path} to ${to}`);
    await refresh();
  }

  async function remove(f, force = false) {
    const doc = workspace.get(f.path);
    if (!force) {
      const unsaved = doc && workspace.dirty(doc) ? ' Your unsaved changes to it are lost too.' : '';
      const choice = await dialog({
        title: `Delete ${f.path}?`,
        body: `The file is removed from the plan folder and the plan reloads without it.${unsaved}`,
        buttons: [
          { label: 'Cancel', value: 'cancel', kind: 'primary' },
          { label: 'Delete', value: 'delete', kind: 'danger' },
        ],
      });
      if (choice !== 'delete') return;
    }
    const base = doc && doc.hash ? doc.hash : f.hash;
    const query = `?base_hash=${encodeURIComponent(base)}&force=${force}`;
    const answer = await api.send('DELETE', api.filePath(f.path) + query);
    if (answer.status === 422 && !force) {
      if (await refusedByCheck(`Deleting ${f.path}`, answer)) return remove(f, true);
      return;
    }
    if (answer.status !== 204 && answer.status !== 200) return tell(`${f.path} was not deleted`, answer);
    await workspace.close(f.path, { ask: false });
    say(`deleted ${f.path}`);
    await refresh();
  }

  return { refresh, render, create, files: () => files };
}
