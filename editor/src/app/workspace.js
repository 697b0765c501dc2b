// The open files and the one editor that shows them: each open file keeps its own
// CodeMirror state (text, undo history, diagnostics, lit line); a tab switches the view
// to it. Saving, the 422 and 409 answers and what the admin chooses then live in save.js.

import { EditorState, StateEffect, StateField } from '@codemirror/state';
import {
  EditorView,
  Decoration,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  dropCursor,
  rectangularSelection,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { lintGutter, lintKeymap, setDiagnostics } from '@codemirror/lint';
import { search, searchKeymap, highlightSelectionMatches } from '@codemirror/search';
import * as api from '../shared/api.js';
import { h, fill } from '../shared/dom.js';
import { dialplan } from './language.js';
import { intelligence } from './intelligence.js';
import { lineColumn, fromChars } from './positions.js';

/** Lights one line (the simulator's current step); `null` puts it out. */
const setLit = StateEffect.define();
const litLine = StateField.define({
  create: () => Decoration.none,
  update(lit, tr) {
    for (const e of tr.effects) {
      if (e.is(setLit)) {
        if (e.value === null) return Decoration.none;
        const line = tr.state.doc.line(Math.min(Math.max(e.value, 1), tr.state.doc.lines));
        return Decoration.set([Decoration.line({ class: 'cm-lit-line' }).range(line.from)]);
      }
    }
    return lit.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** The path each state belongs to, so extensions shared by all files can ask. */
const pathField = StateField.define({ create: () => '', update: (p) => p });

/**
 * The workspace over `elements` (`{tabs, editor, helpLine}`). `hooks` are
 * `{onChange(doc), onCursor(place), onStatus(text), onOpened(path), confirmDiscard(path)}`.
 */
export function workspace(elements, hooks) {
  /** path → {path, state, hash (null: never saved), savedText} */
  const open = new Map();
  const order = [];
  let current = null;
  const cursorListeners = new Set();

  // The server allows <style> elements only with this page's nonce (its CSP);
  // CodeMirror puts its styles in one, so it must carry it.
  const nonce = document.querySelector('meta[name="csp-nonce"]')?.content;

  const shared = [
    nonce ? EditorView.cspNonce.of(nonce) : [],
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    rectangularSelection(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    lintGutter(),
    dialplan(),
    litLine,
    intelligence({
      pathOf: (state) => state.field(pathField),
      openAt: (path, line, column) => openFile(path, line, column, { utf16: true }),
      say: (text) => hooks.onStatus(text),
    }),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    EditorView.updateListener.of((update) => {
      if (!current) return;
      const doc = open.get(current);
      doc.state = update.state;
      if (update.docChanged) {
        renderTabs();
        hooks.onChange(doc);
      }
      if (update.docChanged || update.selectionSet) tellCursor();
    }),
  ];

  // Created with the nonce already, since the first state mounts the styles.
  const view = new EditorView({
    parent: elements.editor,
    state: EditorState.create({ doc: '', extensions: nonce ? EditorView.cspNonce.of(nonce) : [] }),
  });
  view.dom.classList.add('hidden');

  function stateFor(path, text) {
    return EditorState.create({ doc: text, extensions: [shared, pathField.init(() => path)] });
  }

  function dirty(doc) {
    return doc.hash === null || doc.state.doc.toString() !== doc.savedText;
  }

  function renderTabs() {
    fill(
      elements.tabs,
      order.map((path) => {
        const doc = open.get(path);
        return h(
          'div.tab' + (path === current ? '.active' : '') + (dirty(doc) ? '.dirty' : ''),
          { dataset: { path }, title: path, onclick: () => show(path) },
          h('span.tab-name', {}, path),
          h('span.tab-dirty', { title: 'not saved' }, dirty(doc) ? '●' : ''),
          h(
            'button.tab-close',
            {
              type: 'button',
              title: `close ${path}`,
              onclick: (e) => {
                e.stopPropagation();
                close(path);
              },
            },
            '×',
          ),
        );
      }),
    );
  }

  function tellCursor() {
    const place = cursor();
    for (const fn of cursorListeners) fn(place);
    hooks.onCursor(place);
  }

  function show(path) {
    if (current && open.has(current)) open.get(current).state = view.state;
    current = path;
    if (path === null) {
      view.dom.classList.add('hidden');
      elements.empty.classList.remove('hidden');
    } else {
      view.setState(open.get(path).state);
      view.dom.classList.remove('hidden');
      elements.empty.classList.add('hidden');
      view.focus();
    }
    renderTabs();
    tellCursor();
  }

  async function close(path, { ask = true } = {}) {
    const doc = open.get(path);
    if (!doc) return;
    if (ask && dirty(doc) && !(await hooks.confirmDiscard(path))) return;
    open.delete(path);
    order.splice(order.indexOf(path), 1);
    if (current === path) {
      current = null;
      show(order[order.length - 1] || null);
    } else {
      renderTabs();
    }
  }

  /** Adds an open file holding `text` (hash null: not on disk yet). */
  function adopt(path, text, hash) {
    open.set(path, { path, state: stateFor(path, text), hash, savedText: text });
    order.push(path);
  }

  /**
   * Opens `path` (reading it from the server unless open) and puts the cursor on `line`
   * and `column` (characters, or UTF-16 units with `utf16`).
   */
  async function openFile(path, line, column, { utf16 = false } = {}) {
    if (!open.has(path)) {
      const answer = await api.get(api.filePath(path));
      if (answer.status !== 200) {
        hooks.onStatus(`could not open ${path}: ${api.errorText(answer)}`);
        return false;
      }
      // Another open of the same file may have won the race.
      if (!open.has(path)) adopt(path, answer.body.text, answer.body.hash);
      hooks.onOpened(path);
    }
    if (current !== path) show(path);
    if (line) {
      const doc = view.state.doc;
      const pos = utf16
        ? Math.min(doc.line(Math.min(line, doc.lines)).from + (column || 1) - 1, doc.line(Math.min(line, doc.lines)).to)
        : fromChars(doc, line, column || 1);
      view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: 'center' }) });
      view.focus();
    }
    return true;
  }

  /** Lights `line` of `path` (opening it); `path` null puts every light out. */
  async function highlight(path, line) {
    for (const doc of open.values()) {
      if (doc.path !== path && doc.state.field(litLine).size) {
        if (doc.path === current) view.dispatch({ effects: setLit.of(null) });
        else doc.state = doc.state.update({ effects: setLit.of(null) }).state;
      }
    }
    if (path === null || path === undefined) return;
    if (!(await openFile(path))) return;
    const doc = view.state.doc;
    const pos = doc.line(Math.min(Math.max(line, 1), doc.lines)).from;
    view.dispatch({ effects: [setLit.of(line), EditorView.scrollIntoView(pos, { y: 'center' })] });
  }

  function cursor() {
    if (!current) return { path: null, line: null, column: null };
    return { path: current, ...lineColumn(view.state.doc, view.state.selection.main.head) };
  }

  function applyDiagnostics(path, list) {
    const doc = open.get(path);
    if (!doc) return;
    if (path === current) view.dispatch(setDiagnostics(view.state, list));
    else doc.state = doc.state.update(setDiagnostics(doc.state, list)).state;
  }

  return {
    view,
    openFile,
    highlight,
    cursor,
    onCursor: (fn) => {
      cursorListeners.add(fn);
      return () => cursorListeners.delete(fn);
    },
    /** `{path: text}` of every open file whose text is not what was saved. */
    buffers() {
      const out = {};
      for (const doc of open.values()) if (dirty(doc)) out[doc.path] = doc.state.doc.toString();
      return out;
    },
    docs: () => [...open.values()],
    get: (path) => open.get(path),
    current: () => current,
    dirty,
    adopt,
    show,
    close,
    applyDiagnostics,
    /** Records a save: `text` is on disk with `hash`. */
    saved(path, text, hash) {
      const doc = open.get(path);
      if (!doc) return;
      doc.hash = hash;
      doc.savedText = text;
      renderTabs();
    },
    /** Replaces a file's text (the disk's version, chosen after a conflict). */
    replace(path, text, hash) {
      const doc = open.get(path);
      if (!doc) return;
      const spec = { changes: { from: 0, to: doc.state.doc.length, insert: text } };
      doc.hash = hash;
      doc.savedText = text;
      if (path === current) view.dispatch(spec);
      else doc.state = doc.state.update(spec).state;
      renderTabs();
      hooks.onChange(doc);
    },
    /** Follows a rename made on the server: the open file keeps its buffer. */
    renamed(from, to, hash) {
      const doc = open.get(from);
      if (!doc) return;
      open.delete(from);
      const state = stateFor(to, doc.state.doc.toString());
      open.set(to, { path: to, state, hash, savedText: doc.savedText });
      order[order.indexOf(from)] = to;
      if (current === from) {
        current = null;
        show(to);
      } else renderTabs();
    },
  };
}
