// Places in a CodeMirror document and the server's ways of naming them.
//
// CodeMirror counts UTF-16 units from the start of the document. The editor's questions
// (/api/complete, /api/definition, /api/hover) and their answers use 1-based lines and
// 1-based UTF-16 columns, as LSP does; diagnostics (`switchboard check --format json`)
// count columns in characters, which differ from UTF-16 only past the Basic Multilingual
// Plane (an emoji in a comment). Lines and columns past the end are clamped, since an
// answer may describe a text that has since changed.

/** `{line, column}` (1-based, UTF-16) of a document position. */
export function lineColumn(doc, pos) {
  const line = doc.lineAt(pos);
  return { line: line.number, column: pos - line.from + 1 };
}

/** The position of a 1-based line and 1-based UTF-16 column. */
export function fromUtf16(doc, line, column) {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  return l.from + Math.min(Math.max(column - 1, 0), l.length);
}

/** The position of a 1-based line and 1-based column counted in characters. */
export function fromChars(doc, line, column) {
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  let offset = 0;
  let chars = 1;
  while (chars < column && offset < l.length) {
    const code = l.text.charCodeAt(offset);
    offset += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    chars++;
  }
  return l.from + Math.min(offset, l.length);
}
