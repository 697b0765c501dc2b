// The Switchboard editor app: sign in, the plan's files, one editor with tabs, the
// status bar (live plan version and the last reload, pushed by /api/events), and the
// panels (Problems here; tests, simulator, diagram, calls and office from panels/).

import './app.css';
import * as api from '../shared/api.js';
import * as events from './events.js';
import { h, fill, dialog } from '../shared/dom.js';
import { signIn } from './login.js';
import { workspace as makeWorkspace } from './workspace.js';
import { checker as makeChecker, placeText } from './diagnostics.js';
import { saver as makeSaver } from './save.js';
import { fileList } from './files.js';
import { panels } from './panels/index.js';

const el = {};
let session = null;
let started = false;
let booting = true;
let signingIn = null;

function layout() {
  el.user = h('span.user');
  el.signOut = h('button.btn', { type: 'button', onclick: signOut }, 'Sign out');
  el.files = h('ul.files');
  el.tabs = h('div.tabs', { attrs: { role: 'tablist' } });
  el.editor = h('div.editor-host');
  el.empty = h('div.empty', {}, h('p.muted', {}, 'Open a file from the list on the left.'));
  el.helpLine = h('div.help-line', { attrs: { 'aria-live': 'polite' } });
  el.saveButton = h('button.btn.primary', { type: 'button', title: 'Save (Ctrl+S / Cmd+S)', onclick: () => saveCurrent() }, 'Save');
  el.panelTabs = h('div.panel-tabs', { attrs: { role: 'tablist' } });
  el.panelBodies = h('div.panel-bodies');
  el.problems = h('div.problems-host');
  el.planVersion = h('span.status-plan', { title: 'the plan the server runs now' }, 'plan …');
  el.reload = h('span.status-reload', {}, '');
  el.live = h('span.status-live', {}, '');
  el.message = h('span.status-message', { attrs: { 'aria-live': 'polite' } }, '');
  el.checkTime = h('span.status-check muted', {}, '');

  const app = h(
    'div.app',
    {},
    h(
      'header.top',
      {},
      h('span.brand', {}, 'Switchboard'),
      h('span.spacer'),
      h('a.link', { href: '/status', target: '_blank', rel: 'noopener' }, 'status page'),
      el.user,
      el.signOut,
    ),
    h(
      'aside.side',
      {},
      h(
        'div.side-head',
        {},
        h('span', {}, 'Plan files'),
        h('button.btn.small', { type: 'button', title: 'new file', onclick: () => files.create() }, '+ New'),
      ),
      el.files,
    ),
    h(
      'main.main',
      {},
      h('div.editor-bar', {}, el.tabs, h('span.spacer'), el.saveButton),
      h('div.editor-area', {}, el.editor, el.empty),
      el.helpLine,
    ),
    h('section.panels', {}, el.panelTabs, el.panelBodies),
    h('footer.status', {}, el.planVersion, el.reload, el.live, el.checkTime, h('span.spacer'), el.message),
  );
  document.body.append(app);
}

function say(text) {
  el.message.textContent = text;
}

layout();

const workspace = makeWorkspace(
  { tabs: el.tabs, editor: el.editor, empty: el.empty, helpLine: el.helpLine },
  {
    onChange: () => check.schedule(),
    onCursor: (place) => showHelp(place),
    onStatus: say,
    onOpened: () => files.render(),
    confirmDiscard: async (path) =>
      (await dialog({
        title: `Close ${path} without saving?`,
        body: 'Your changes to it are not saved.',
        buttons: [
          { label: 'Keep it open', value: 'keep', kind: 'primary' },
          { label: 'Discard changes', value: 'discard', kind: 'danger' },
        ],
      })) === 'discard',
  },
);

const check = makeChecker({
  workspace,
  problemsEl: el.problems,
  onResult: (result) => {
    if (result.error) {
      el.checkTime.textContent = result.error;
      return;
    }
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = result.diagnostics.length - errors;
    const count = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const ms = result.elapsed_ms === undefined ? '' : ` (checked in ${Math.round(result.elapsed_ms)} ms)`;
    el.checkTime.textContent = `${count(errors, 'error')}, ${count(warnings, 'warning')}${ms}`;
    setPanelBadge('problems', result.diagnostics.length);
    showHelp(workspace.cursor());
  },
});

const files = fileList({ listEl: el.files, workspace, say, onRoot: (root) => check.setRoot(root) });

const saver = makeSaver({
  workspace,
  say,
  afterSave: () => {
    files.refresh();
    check.schedule();
  },
});

function saveCurrent(path = workspace.current()) {
  if (!path) {
    say('nothing to save: open a file first');
    return;
  }
  return saver.save(path);
}

// Ctrl-S / Cmd-S saves the open file wherever the focus is (the editor, a button just
// clicked), and never the browser's "save page".
document.addEventListener(
  'keydown',
  (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 's') {
      e.preventDefault();
      if (!document.querySelector('.overlay, .login-screen')) saveCurrent();
    }
  },
  true,
);

/** The help line: the diagnostic on the cursor's line, with its fix. */
function showHelp(place) {
  if (!place || !place.path) {
    fill(el.helpLine);
    return;
  }
  const here = check.at(place.path, place.line);
  if (!here.length) {
    fill(el.helpLine);
    return;
  }
  const d = here[0];
  fill(
    el.helpLine,
    h('span.severity.' + d.severity, {}, d.severity),
    ' ',
    h('span.place', {}, placeText(d)),
    ' ',
    d.message,
    d.help ? h('span.help', {}, ' — help: ', d.help) : null,
  );
}

// ---- status bar: the plan the server runs, pushed ------------------------------------

function showPlan(data) {
  el.planVersion.textContent = `plan version ${data.version}`;
  el.planVersion.dataset.version = data.version;
  el.planVersion.title = `loaded ${data.loaded_at}`;
  const last = data.last_attempt || {};
  el.reload.className = 'status-reload ' + (last.ok ? 'ok' : 'refused');
  if (last.ok) {
    el.reload.textContent = `last reload: loaded version ${last.version}`;
    el.reload.title = `${last.at || ''}${last.warnings ? `, ${last.warnings} warnings` : ''}`;
  } else if (last.error) {
    el.reload.textContent = `last reload failed: ${last.error}`;
  } else {
    const first = (last.diagnostics || []).find((d) => d.severity === 'error');
    el.reload.textContent =
      `last reload refused (${last.errors} errors; calls go on with version ${data.version})` +
      (first ? `: ${placeText(first)} ${first.message}` : '');
  }
}

events.on('plan', (data) => {
  showPlan(data);
  // A reload means files changed on disk: the list, the checks and any file opened
  // but unchanged here follow.
  files.refresh();
  check.schedule();
});

events.onState((state) => {
  el.live.className = 'status-live ' + state;
  el.live.textContent = state === 'live' ? '● live' : state === 'connecting' ? '○ connecting…' : '○ not connected';
});

// ---- panels ----------------------------------------------------------------------------

const panelIds = new Map();

function addPanel(id, title, body) {
  const tab = h('button.panel-tab', { type: 'button', dataset: { panel: id }, attrs: { role: 'tab' }, onclick: () => showPanel(id) }, title, h('span.badge'));
  const host = h('div.panel-body.hidden', { dataset: { panel: id }, attrs: { role: 'tabpanel' } }, body);
  el.panelTabs.append(tab);
  el.panelBodies.append(host);
  panelIds.set(id, { tab, host });
  return host;
}

function setPanelBadge(id, count) {
  const panel = panelIds.get(id);
  if (panel) panel.tab.querySelector('.badge').textContent = count ? String(count) : '';
}

function showPanel(id) {
  if (!panelIds.has(id)) return false;
  for (const [other, { tab, host }] of panelIds) {
    tab.classList.toggle('active', other === id);
    host.classList.toggle('hidden', other !== id);
  }
  return true;
}

/** What a panel gets to work with: the API, the pushed events and the editor. */
const ctx = {
  api: { get: api.get, send: api.send },
  events: { on: events.on },
  editor: {
    openFile: (path, line) => workspace.openFile(path, line),
    highlight: (path, line) => workspace.highlight(path, line),
    cursor: () => workspace.cursor(),
    onCursor: (fn) => workspace.onCursor(fn),
    buffers: () => workspace.buffers(),
  },
  showPanel,
};

function mountPanels() {
  addPanel('problems', 'Problems', el.problems);
  fill(el.problems, h('p.muted', {}, 'Checking…'));
  for (const panel of panels) {
    const host = addPanel(panel.id, panel.title, null);
    try {
      panel.mount(host, ctx);
    } catch (e) {
      console.error(`the ${panel.id} panel failed to start`, e);
      fill(host, h('p.error-text', {}, `This panel failed to start: ${e.message}`));
    }
  }
  showPanel('problems');
}

// ---- session ------------------------------------------------------------------------------

function start(newSession) {
  session = newSession;
  api.setSession(session);
  el.user.textContent = session.user;
  if (!started) {
    started = true;
    mountPanels();
  }
  events.connect();
  files.refresh();
  check.schedule();
}

function requireSignIn(reason) {
  if (booting) return;
  if (signingIn) return;
  events.close();
  signingIn = signIn(reason).then((s) => {
    signingIn = null;
    start(s);
  });
}

async function signOut() {
  const unsaved = Object.keys(workspace.buffers());
  if (unsaved.length) {
    const choice = await dialog({
      title: 'Sign out with unsaved changes?',
      body: `Not saved: ${unsaved.join(', ')}.`,
      buttons: [
        { label: 'Stay signed in', value: 'stay', kind: 'primary' },
        { label: 'Sign out and lose them', value: 'out', kind: 'danger' },
      ],
    });
    if (choice !== 'out') return;
  }
  events.close();
  await api.send('POST', '/api/logout');
  // A fresh page: nothing of this session stays in memory.
  leaving = true;
  location.reload();
}

api.whenSignedOut((reason) => requireSignIn(`Your session has ended (${reason || 'signed out'}); sign in again.`));

let leaving = false;
window.addEventListener('beforeunload', (e) => {
  if (!leaving && Object.keys(workspace.buffers()).length) e.preventDefault();
});

async function boot() {
  const answer = await api.get('/api/session');
  booting = false;
  if (answer.status === 200 && answer.body.kind !== 'person') {
    start(answer.body);
  } else {
    // A person's session (from the client at /client/) is not an admin's.
    const reason =
      answer.status === 200
        ? `You are signed in as extension ${answer.body.extension}; the editor is for admins: sign in as one, or go to the client at /client/.`
        : answer.status === 401
          ? ''
          : api.errorText(answer);
    signingIn = signIn(reason).then((s) => {
      signingIn = null;
      start(s);
    });
  }
}

boot();
