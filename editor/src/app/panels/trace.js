// Trace entries as the panels show them: one line each, its place (`voicemail.dial:7`)
// a link to the source line. A call's trace arrives as the engine renders it
// (`voicemail.dial:7:9 play vm-enter-pin`); tests and the simulator give
// `{text, file, line}`. Both end up as `{text, file, line}` here.

import { get } from "./request.js";
import { h } from "./dom.js";

// `office.dial:12:5 play welcome` → `{file: "office.dial", line: 12, text: "play welcome"}`;
// a line with no place in front (`ended: caller hung up`) → `{file: null, line: null, text}`.
export function parseTraceLine(line) {
  const m = /^(\S+?\.dial):(\d+)(?::\d+)?\s+(.*)$/s.exec(String(line));
  if (!m) return { file: null, line: null, text: String(line) };
  return { file: m[1], line: Number(m[2]), text: m[3] };
}

// The plan folder's files, to turn the name a trace gives into the path the editor
// opens. Tests and the simulator name files relative to the plan folder already; a live
// call's trace carries the server's source path (`/srv/x/dialplans/office.dial`), which
// is matched to the plan's file it ends with.
export class PlanFiles {
  constructor(ctx) {
    this.ctx = ctx;
    this.paths = [];
    this.loading = null;
  }

  // Reads the list (again); callers await it before `resolve` when they can.
  refresh() {
    this.loading = get(this.ctx, "/api/files")
      .then((answer) => {
        this.paths = (answer.files || []).map((f) => f.path);
      })
      .catch(() => {
        // Without the list, names are used as given: still right for plan-relative ones.
      });
    return this.loading;
  }

  ready() {
    return this.loading || this.refresh();
  }

  // `dialplans/voicemail.dial` → `voicemail.dial` when the plan has that file; the
  // longest plan path the name ends with wins (`a/x.dial` over `x.dial`).
  resolve(name) {
    if (!name) return name;
    const clean = String(name).replaceAll("\\", "/");
    if (this.paths.includes(clean)) return clean;
    let best = null;
    for (const p of this.paths) {
      if (clean.endsWith("/" + p) && (!best || p.length > best.length)) best = p;
    }
    return best || clean;
  }
}

// An `<ol>` of entries; an entry with a place is a button calling `open({file, line})`.
// `current` (an index) marks one entry.
export function traceList(entries, open, { current = null, className = "sb-trace" } = {}) {
  return h(
    "ol",
    { class: className },
    entries.map((e, i) =>
      h(
        "li",
        { class: i === current ? "sb-current" : null },
        e.file
          ? h(
              "button",
              {
                type: "button",
                class: "sb-link sb-place",
                title: `Show ${e.file} line ${e.line}`,
                onclick: () => open(e),
              },
              `${e.file}:${e.line}`,
            )
          : h("span", { class: "sb-place sb-noplace" }, "—"),
        " ",
        h("span", { class: "sb-trace-text" }, e.text),
      ),
    ),
  );
}
