// The dialplan language for CodeMirror: a stream tokenizer, since the grammar is
// line-oriented (newlines end statements, strings never span lines) and the only thing
// that spans lines is a `script` block's Rhai body, which the state carries as a brace
// depth. Token names are mapped to highlight tags in `tokenTable`, so the theme in
// theme.js colours each kind; the words come from dsl/src/dialplan.pest and
// dsl/src/read/steps.rs (FLOW_VERBS, TEST_VERBS).

import { StreamLanguage, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { Tag, tags } from '@lezer/highlight';

/** Words that start a top-level item. */
const ITEMS = new Set([
  'settings', 'extension', 'extensions', 'queue', 'park', 'device', 'trunk', 'dial',
  'inbound', 'chat', 'flow', 'script', 'test',
]);

/** Words that join or end steps and conditions (`reserved` in the grammar), and blocks. */
const CONTROL = new Set([
  'then', 'else', 'when', 'if', 'not', 'and', 'or', 'repeat', 'times', 'timeout', 'retries',
  'invalid',
]);

/** Step verbs of flows and tests. */
const STEPS = new Set([
  'answer', 'hangup', 'play', 'say', 'ask', 'record', 'confirm', 'extension', 'queue',
  'trunk', 'voicemail', 'goto', 'flow', 'call', 'back', 'repeat', 'set', 'menu', 'queue_login',
  'queue_logout', 'hot_desk_login', 'hot_desk_logout', 'park', 'unpark', 'park_toggle',
  'directory', 'mailbox', 'language', 'wait', 'press', 'given', 'expect',
]);

/** The words after which a string names a prompt (a recording in prompts/<lang>/). */
const PROMPT_WORDS = new Set(['play', 'menu', 'ask', 'announce', 'expect']);

const RHAI_KEYWORDS = new Set([
  'let', 'const', 'if', 'else', 'fn', 'return', 'true', 'false', 'while', 'loop', 'for',
  'in', 'break', 'continue', 'switch', 'this',
]);

/** Tags of our own, for what the standard set has no word for. */
export const dialTags = {
  step: Tag.define(tags.keyword),
  prompt: Tag.define(tags.string),
  capture: tags.special(tags.string),
  rhai: Tag.define(),
};

function startState() {
  return {
    // Inside a string on this line; `prompt` says whether it names a prompt.
    string: null,
    // Inside back-quotes (one line) or a `script` block (brace depth > 0).
    backquote: false,
    scriptDepth: 0,
    // Braces open outside scripts: at 0 a word starts an item (`queue 800`), inside a
    // block it is a step (`queue 800`) or an option (`agents 101`).
    depth: 0,
    // A `script` header was read and its `{` has not come yet.
    scriptPending: false,
    // The last word of the statement so far, for telling prompts and verbs apart.
    lastWord: null,
    atStatementStart: true,
    // A prompt string was just read, so a following string is a prompt too (`play "a" "b"`).
    promptRun: false,
    // An arrow was just read: the next word is a step's verb.
    stepNext: false,
  };
}

function copyState(s) {
  return { ...s, string: s.string && { ...s.string } };
}

/** Rhai inside a `script` block or back-quotes: its strings, numbers, words, comments. */
function rhaiToken(stream, state) {
  if (stream.match('//')) {
    stream.skipToEnd();
    return 'comment rhai';
  }
  if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string rhai';
  if (stream.match(/^\d+(\.\d+)?/)) return 'number rhai';
  const word = stream.match(/^[A-Za-z_]\w*/);
  if (word) return RHAI_KEYWORDS.has(word[0]) ? 'keyword rhai' : 'variableName rhai';
  const ch = stream.next();
  if (state.backquote && ch === '`') {
    state.backquote = false;
    return 'meta';
  }
  if (state.scriptDepth > 0) {
    if (ch === '{') state.scriptDepth += 1;
    if (ch === '}') {
      state.scriptDepth -= 1;
      if (state.scriptDepth === 0) return 'brace';
    }
  }
  return 'rhai';
}

/** The rest of a string: captures `{name:pattern}` or `{var}` stand out. */
function stringToken(stream, state) {
  const kind = state.string.prompt ? 'prompt' : 'string';
  if (stream.peek() === '{') {
    stream.next();
    stream.match(/^[^}"]*\}?/);
    return 'capture';
  }
  while (!stream.eol()) {
    const ch = stream.peek();
    if (ch === '"') {
      stream.next();
      state.string = null;
      return kind;
    }
    if (ch === '{') return kind;
    stream.next();
    if (ch === '\\') stream.next();
  }
  state.string = null; // Strings never span lines; the checker reports the missing quote.
  return kind;
}

function token(stream, state) {
  if (stream.sol()) {
    state.string = null;
    state.backquote = false;
    if (state.scriptDepth === 0) {
      state.atStatementStart = true;
      state.lastWord = null;
      state.promptRun = false;
      state.stepNext = false;
    }
  }
  if (state.scriptDepth > 0 || state.backquote) {
    // Spaces too, so the embedded code sits on one unbroken background.
    if (stream.eatSpace()) return 'rhai';
    return rhaiToken(stream, state);
  }
  if (state.string) return stringToken(stream, state);
  if (stream.eatSpace()) return null;

  if (stream.peek() === '#') {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.eat('"')) {
    const prompt = PROMPT_WORDS.has(state.lastWord) || state.promptRun;
    state.string = { prompt };
    state.promptRun = prompt;
    state.atStatementStart = false;
    return stringToken(stream, state);
  }
  state.promptRun = false;
  if (stream.eat('`')) {
    state.backquote = true;
    state.atStatementStart = false;
    return 'meta';
  }
  if (stream.match('->')) {
    // What follows an arrow is a step, even at the top level (`dial "500" -> flow x`).
    state.atStatementStart = true;
    state.stepNext = true;
    state.lastWord = null;
    return 'operator';
  }
  if (stream.match(/^\d+(ms|s|m|h)(?![\w])/)) {
    state.atStatementStart = false;
    return 'unit';
  }
  if (stream.match(/^\d+/)) {
    state.atStatementStart = false;
    return 'number';
  }
  const word = stream.match(/^[A-Za-z_]\w*/);
  if (word) {
    const w = word[0];
    const first = state.atStatementStart;
    const stepNext = state.stepNext;
    state.atStatementStart = false;
    state.stepNext = false;
    state.lastWord = w;
    if (w === 'script' && first && state.depth === 0) {
      state.scriptPending = true;
      return 'keyword';
    }
    if (CONTROL.has(w)) {
      if (w === 'then' || w === 'else') state.atStatementStart = true;
      return 'controlKeyword';
    }
    if (first && state.depth === 0 && !stepNext && ITEMS.has(w)) return 'keyword';
    if (first && STEPS.has(w)) return 'step';
    if (first && state.depth > 0) return 'propertyName';
    if (w === 'true' || w === 'false') return 'atom';
    return 'variableName';
  }
  const ch = stream.next();
  if (ch === '{') {
    state.atStatementStart = true;
    if (state.scriptPending) {
      state.scriptPending = false;
      state.scriptDepth = 1;
    } else {
      state.depth += 1;
    }
    return 'brace';
  }
  if (ch === '}') {
    state.atStatementStart = true;
    state.depth = Math.max(0, state.depth - 1);
    return 'brace';
  }
  if (ch === ';') {
    state.atStatementStart = true;
    state.lastWord = null;
    return 'punctuation';
  }
  return 'operator';
}

export const dialplanLanguage = StreamLanguage.define({
  name: 'dialplan',
  startState,
  copyState,
  token,
  languageData: { commentTokens: { line: '#' } },
  tokenTable: {
    step: dialTags.step,
    prompt: dialTags.prompt,
    capture: dialTags.capture,
    rhai: dialTags.rhai,
    unit: tags.unit,
    controlKeyword: tags.controlKeyword,
  },
});

const dialHighlight = HighlightStyle.define([
  { tag: tags.comment, color: '#6a737d', fontStyle: 'italic' },
  { tag: tags.propertyName, color: '#6639ba' },
  { tag: tags.keyword, color: '#8250df', fontWeight: '600' },
  { tag: tags.controlKeyword, color: '#cf222e' },
  { tag: dialTags.step, color: '#0550ae', fontWeight: '600' },
  { tag: tags.string, color: '#0a3069' },
  { tag: dialTags.prompt, color: '#116329', textDecoration: 'underline dotted' },
  { tag: dialTags.capture, color: '#953800', fontWeight: '600' },
  { tag: tags.unit, color: '#953800' },
  { tag: tags.number, color: '#0550ae' },
  { tag: tags.atom, color: '#0550ae' },
  { tag: tags.operator, color: '#cf222e' },
  { tag: tags.meta, color: '#8250df' },
  { tag: dialTags.rhai, backgroundColor: '#eef2f8' },
]);

/** The language with its colours, as one extension. */
export function dialplan() {
  return [dialplanLanguage, syntaxHighlighting(dialHighlight)];
}
