// Check as you type: a quarter of a second after the last key, the unsaved buffers go to
// `POST /api/check`, which overlays them on the plan on disk and runs the server's own
// compile. The answer becomes underlines and gutter marks in each open file, the help line
// under the editor, and the Problems list (a click jumps to the place).

import { setDiagnostics } from '@codemirror/lint';
import * as api from '../shared/api.js';
import { h, fill } from '../shared/dom.js';
import { fromChars } from './positions.js';

const DELAY_MS = 250;

/** `d.file` relative to the plan folder, whether the server sent it so or absolute. */
function relative(file, root) {
  if (root && file.startsWith(root + '/')) return file.slice(root.length + 1);
  return file;
}

/** `office.dial:12:5` */
export function placeText(d) {
  return `${d.file}:${d.line}:${d.column}`;
}

/** CodeMirror diagnostics of `path` from the server's, against `doc`. */
export function toEditor(diagnostics, path, doc) {
  return diagnostics
    .filter((d) => d.file === path)
    .map((d) => {
      const from = fromChars(doc, d.line, d.column);
      const to = Math.max(from, fromChars(doc, d.end_line, d.end_column));
      return {
        from,
        to,
        severity: d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'info',
        source: d.code,
        message: d.message,
        renderMessage: () =>
          h(
            'div.diagnostic',
            {},
            h('div', {}, d.message, d.label && d.label !== d.message ? ` — ${d.label}` : ''),
            d.help ? h('div.help', {}, 'help: ', d.help) : null,
          ),
      };
    });
}

/**
 * The checker: `schedule()` after every change; it reads the buffers from `workspace`
 * (`buffers()`, `docs()`, `applyDiagnostics(path, list)`) and fills `problemsEl`.
 */
export function checker({ workspace, problemsEl, onResult }) {
  let timer = null;
  let sequence = 0;
  let root = '';
  let current = [];

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, DELAY_MS);
  }

  async function run() {
    const mine = ++sequence;
    const sent = new Map(workspace.docs().map((d) => [d.path, d.state.doc.toString()]));
    const answer = await api.send('POST', '/api/check', { files: workspace.buffers() });
    // A later check is on its way (or done): this answer describes older text.
    if (mine !== sequence) return;
    if (answer.status !== 200) {
      onResult({ error: `checking failed: ${api.errorText(answer)}` });
      return;
    }
    show(answer.body.diagnostics, sent);
    onResult({ diagnostics: current, elapsed_ms: answer.body.elapsed_ms });
  }

  /** Shows `diagnostics` (the whole plan's); `sent` is the text each file had. */
  function show(diagnostics, sent) {
    current = diagnostics.map((d) => ({ ...d, file: relative(d.file, root) }));
    for (const doc of workspace.docs()) {
      // A file typed in since the check was sent gets the next check's answer instead.
      if (sent && sent.get(doc.path) !== doc.state.doc.toString()) continue;
      workspace.applyDiagnostics(doc.path, toEditor(current, doc.path, doc.state.doc));
    }
    renderProblems();
  }

  function renderProblems() {
    const sorted = [...current].sort(
      (a, b) =>
        (a.severity === 'error' ? 0 : 1) - (b.severity === 'error' ? 0 : 1) ||
        a.file.localeCompare(b.file) ||
        a.line - b.line,
    );
    if (!sorted.length) {
      fill(problemsEl, h('p.muted.problems-none', {}, 'No problems: the plan checks clean.'));
      return;
    }
    fill(
      problemsEl,
      h(
        'ul.problems',
        {},
        sorted.map((d) =>
          h(
            'li.problem.' + d.severity,
            {
              tabIndex: 0,
              dataset: { file: d.file, line: d.line, code: d.code },
              onclick: () => workspace.openFile(d.file, d.line, d.column),
              onkeydown: (e) => e.key === 'Enter' && workspace.openFile(d.file, d.line, d.column),
            },
            h('span.severity', {}, d.severity),
            h('span.place', {}, placeText(d)),
            h('span.message', {}, d.message),
            h('span.code', {}, `[${d.code}]`),
            d.help ? h('span.help', {}, d.help) : null,
          ),
        ),
      ),
    );
  }

  /** The diagnostics of `path` whose lines hold `line` (for the help line). */
  function at(path, line) {
    return current.filter((d) => d.file === path && d.line <= line && line <= d.end_line);
  }

  return {
    schedule,
    run,
    show,
    at,
    setRoot: (r) => {
      root = r;
    },
    all: () => current,
  };
}

export { setDiagnostics };
