// What the editor asks the server about the text at the cursor: completion, hover and go
// to definition. Each question sends the buffer as it is now (the server overlays it on
// the plan on disk) with the place as a 1-based line and UTF-16 column.

import { hoverTooltip, EditorView, keymap } from '@codemirror/view';
import { autocompletion } from '@codemirror/autocomplete';
import * as api from '../shared/api.js';
import { h } from '../shared/dom.js';
import { lineColumn, fromUtf16 } from './positions.js';

/** CodeMirror's completion icons, by the server's kind of name. */
const ICONS = {
  flow: 'function',
  extension: 'constant',
  queue: 'class',
  trunk: 'namespace',
  prompt: 'text',
  variable: 'variable',
  step: 'keyword',
};

function question(state, path, pos) {
  return { path, text: state.doc.toString(), ...lineColumn(state.doc, pos) };
}

/**
 * Completion, hover, F12 and Ctrl/Cmd-click for the file `pathOf(state)` names;
 * `openAt(path, line, column)` opens the definition's file at its place, and `say(text)`
 * tells the admin when there is none.
 */
export function intelligence({ pathOf, openAt, say }) {
  async function complete(context) {
    const word = context.matchBefore(/"?[\w\-/]*/);
    if (!context.explicit && (!word || word.from === word.to)) return null;
    const path = pathOf(context.state);
    const answer = await api.send('POST', '/api/complete', question(context.state, path, context.pos));
    if (context.aborted || answer.status !== 200 || !answer.body || !answer.body.items.length) return null;
    const { from, items } = answer.body;
    return {
      from: fromUtf16(context.state.doc, from.line, from.column),
      options: items.map((item) => ({
        label: item.label,
        type: ICONS[item.kind] || 'text',
        detail: item.detail || item.kind,
        // The usage line can be long: shown whole beside the list.
        info: item.detail ? () => h('div.completion-info', {}, item.detail) : undefined,
      })),
      validFor: /^"?[\w\-/]*$/,
    };
  }

  const hover = hoverTooltip(async (view, pos) => {
    const path = pathOf(view.state);
    const answer = await api.send('POST', '/api/hover', question(view.state, path, pos));
    if (answer.status !== 200 || !answer.body) return null;
    const doc = view.state.doc;
    const { text, line, column, end_line, end_column } = answer.body;
    return {
      pos: fromUtf16(doc, line, column),
      end: fromUtf16(doc, end_line, end_column),
      above: true,
      create: () => ({ dom: h('div.hover-text', {}, text) }),
    };
  });

  async function definition(state, pos) {
    const path = pathOf(state);
    const answer = await api.send('POST', '/api/definition', question(state, path, pos));
    if (answer.status !== 200) {
      say(`go to definition failed: ${api.errorText(answer)}`);
    } else if (!answer.body) {
      say('no definition here: put the cursor on a flow, extension, queue or trunk name');
    } else {
      await openAt(answer.body.path, answer.body.line, answer.body.column);
    }
  }

  return [
    autocompletion({ override: [complete], icons: true }),
    hover,
    keymap.of([
      {
        key: 'F12',
        run: (view) => {
          definition(view.state, view.state.selection.main.head);
          return true;
        },
      },
    ]),
    EditorView.domEventHandlers({
      mousedown(event, view) {
        if (event.button !== 0 || !(event.ctrlKey || event.metaKey)) return false;
        const pos = view.posAtCoords({ x: event.clientX, y: event.clientY });
        if (pos === null) return false;
        event.preventDefault();
        definition(view.state, pos);
        return true;
      },
    }),
  ];
}
