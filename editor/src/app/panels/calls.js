// The Calls panel: calls in progress and the recent ones (`/api/calls`), and the call
// records of the last day (`/api/cdr`), refreshed when the server says a call started
// or ended. A click shows the call's trace, each entry linked to its line in the plan
// version the call ran on: the live version opens in the editor; an older one is shown
// here, read-only, as the server kept it (`/api/plan/versions/{v}/files/{path}`).

import { h, replace, when } from "./dom.js";
import { get, pathSegments } from "./request.js";
import { PlanFiles, parseTraceLine, traceList } from "./trace.js";

export const callsPanel = {
  id: "calls",
  title: "Calls",
  mount(el, ctx) {
    const files = new PlanFiles(ctx);
    let liveVersion = null;
    let calls = { live: [], recent: [] };
    let records = [];
    // What the detail shows: a call of the call log (by id) or a call record.
    let selected = null;

    const live = h("div", { class: "sb-calls-live" });
    const recent = h("div", { class: "sb-calls-recent" });
    const cdr = h("div", { class: "sb-calls-cdr" });
    const detail = h("div", { class: "sb-call-detail" });
    const problem = h("p", { class: "sb-bad", hidden: true });
    const refresh = h("button", { type: "button", class: "sb-refresh" }, "Refresh");
    refresh.addEventListener("click", load);
    el.classList.add("sb-panel", "sb-panel-calls");
    replace(
      el,
      h("div", { class: "sb-toolbar" }, refresh, problem),
      h("h3", {}, "In progress"),
      live,
      h("h3", {}, "Recent"),
      recent,
      h("h3", {}, "Call records, last 24 hours"),
      cdr,
      detail,
    );

    async function load() {
      try {
        const [list, cdrAnswer, plan] = await Promise.all([
          get(ctx, "/api/calls"),
          get(ctx, "/api/cdr").catch(() => ({ records: [] })),
          liveVersion === null ? get(ctx, "/api/plan").catch(() => null) : null,
          files.ready(),
        ]);
        calls = { live: list.live || [], recent: list.recent || [] };
        records = cdrAnswer.records || [];
        if (plan) liveVersion = plan.version;
        problem.hidden = true;
      } catch (e) {
        problem.hidden = false;
        problem.textContent = `The calls could not be read: ${e.message}`;
        return;
      }
      render();
      if (selected) showSelected();
    }

    function render() {
      replace(live, callTable(calls.live, "No calls right now."));
      replace(recent, callTable(calls.recent, "No calls yet."));
      replace(cdr, recordTable(records));
    }

    function callTable(list, none) {
      if (!list.length) return h("p", { class: "muted" }, none);
      return h(
        "table",
        { class: "sb-table" },
        h("thead", {}, h("tr", {}, ["Started", "Caller", "Dialled", "Plan", "Outcome"].map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          list.map((c) =>
            h(
              "tr",
              {
                class: selected && selected.id === c.id ? "sb-selected" : null,
                dataset: { call: c.id },
              },
              h(
                "td",
                {},
                h(
                  "button",
                  { type: "button", class: "sb-link", onclick: () => select({ id: c.id }) },
                  when(c.started),
                ),
              ),
              h("td", {}, who(c.caller)),
              h("td", {}, c.dialled),
              h("td", {}, `v${c.plan_version}`),
              h("td", {}, c.outcome || "in progress"),
            ),
          ),
        ),
      );
    }

    function recordTable(list) {
      if (!list.length) return h("p", { class: "muted" }, "No call records in the last day.");
      // Newest first, as the other lists.
      const rows = [...list].reverse();
      return h(
        "table",
        { class: "sb-table" },
        h(
          "thead",
          {},
          h("tr", {}, ["Started", "Caller", "Dialled", "Answered by", "Outcome", "Hung up by", "Plan"].map((t) => h("th", {}, t))),
        ),
        h(
          "tbody",
          {},
          rows.map((r) =>
            h(
              "tr",
              { class: selected && selected.sip === r.sip_call_id ? "sb-selected" : null },
              h(
                "td",
                {},
                h(
                  "button",
                  { type: "button", class: "sb-link", onclick: () => select({ sip: r.sip_call_id, record: r }) },
                  when(r.started),
                ),
              ),
              h("td", {}, who(r.caller)),
              h("td", {}, r.dialled),
              h("td", {}, r.answered_by || "—"),
              h("td", {}, r.outcome),
              h("td", {}, r.hung_up_by),
              h("td", {}, `v${r.plan_version}`),
            ),
          ),
        ),
      );
    }

    function select(which) {
      selected = which;
      render(); // marks the row chosen
      showSelected();
      detail.scrollIntoView({ block: "start" });
    }

    // A call record's trace is the call log's, while the log still holds the call.
    function showSelected() {
      const all = [...calls.live, ...calls.recent];
      const call =
        selected.id !== undefined
          ? all.find((c) => c.id === selected.id)
          : all.find((c) => c.sip_call_id === selected.sip);
      if (!call) {
        const r = selected.record;
        replace(
          detail,
          h("h3", {}, r ? `${who(r.caller)} → ${r.dialled}` : "That call"),
          h(
            "p",
            { class: "muted" },
            r
              ? `${r.outcome}, on plan version ${r.plan_version}. Its trace is no longer kept: the server keeps the traces of the live and most recent calls only.`
              : "The server no longer keeps that call.",
          ),
        );
        return;
      }
      const entries = call.trace.map(parseTraceLine).map((e) => ({ ...e, file: e.file ? files.resolve(e.file) : null }));
      const source = h("div", { class: "sb-version-source" });
      replace(
        detail,
        h("h3", {}, `${who(call.caller)} → ${call.dialled}`),
        h(
          "p",
          { class: "sb-call-facts" },
          `Started ${when(call.started)}`,
          call.ended ? `, ended ${when(call.ended)}` : ", in progress",
          `; ${call.outcome || "in progress"}; plan version `,
          h("span", { dataset: { version: call.plan_version } }, String(call.plan_version)),
          call.plan_version === liveVersion ? " (the live one)" : "",
          ".",
        ),
        call.digits ? h("p", {}, "Keys pressed: ", h("code", {}, call.digits)) : null,
        call.prompts && call.prompts.length ? h("p", {}, "Heard: ", call.prompts.join(", ")) : null,
        traceList(entries, (e) => openAt(call.plan_version, e, source)),
        call.trace_dropped ? h("p", { class: "muted" }, `${call.trace_dropped} more trace lines were not kept.`) : null,
        source,
      );
    }

    // The live plan's line opens in the editor; an older version's text is shown here.
    async function openAt(version, entry, into) {
      if (version === liveVersion) {
        into.replaceChildren();
        ctx.editor.openFile(entry.file, entry.line);
        return;
      }
      replace(into, h("p", { class: "muted" }, `Reading ${entry.file} as of version ${version}…`));
      try {
        const answer = await get(ctx, `/api/plan/versions/${encodeURIComponent(version)}/files/${pathSegments(entry.file)}`);
        replace(into, versionSource(answer, entry.line));
        const lit = into.querySelector(".sb-current");
        if (lit) lit.scrollIntoView({ block: "center" });
      } catch (e) {
        replace(into, h("p", { class: "sb-bad" }, e.message));
      }
    }

    function versionSource(answer, line) {
      const lines = String(answer.text).split("\n");
      return h(
        "figure",
        { class: "sb-source" },
        h(
          "figcaption",
          {},
          `${answer.path} as it was in plan version ${answer.version} (read-only; the live plan is version ${liveVersion})`,
        ),
        h(
          "pre",
          { class: "sb-source-text" },
          lines.map((text, i) =>
            h(
              "div",
              { class: i + 1 === line ? "sb-source-line sb-current" : "sb-source-line" },
              h("span", { class: "sb-line-number" }, String(i + 1)),
              text,
            ),
          ),
        ),
      );
    }

    ctx.events.on("calls", load);
    ctx.events.on("plan", (data) => {
      if (data && data.version !== undefined) liveVersion = data.version;
      files.refresh();
      if (selected) showSelected();
    });
    load();
  },
};

// A call's caller as the server names it; a phone nobody is logged in to has no number.
function who(caller) {
  return caller || "(no number)";
}
