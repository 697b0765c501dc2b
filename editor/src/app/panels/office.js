// The Office panel: the office as it is now, and the running plan. Registered phones
// (and from where), hot-desk logins (log one out), queue logins, parked calls, mailbox
// counts and the SIP users (set a password, remove one) from `/api/office`; the plan's
// version, whether the last save was loaded (and the findings when it was not) and the
// trunks — what the old status page showed. Read again when the server's events say
// the office or the plan changed; never polled.

import { h, replace, when } from "./dom.js";
import { get, send } from "./request.js";
import { PlanFiles } from "./trace.js";

export const officePanel = {
  id: "office",
  title: "Office",
  mount(el, ctx) {
    const files = new PlanFiles(ctx);
    const plan = h("section", { class: "sb-office-plan" });
    const trunks = h("section", { class: "sb-office-trunks" });
    const office = h("div", { class: "sb-office-now" });
    const note = h("p", { class: "sb-office-note", role: "status" });
    el.classList.add("sb-panel", "sb-panel-office");
    replace(el, note, plan, trunks, office);

    // ---- the plan and the trunks --------------------------------------------------
    async function loadPlan() {
      try {
        const [status, trunkList] = await Promise.all([get(ctx, "/api/plan"), get(ctx, "/api/trunks"), files.refresh()]);
        showPlan(status);
        showTrunks(trunkList.trunks || []);
      } catch (e) {
        replace(plan, h("p", { class: "sb-bad" }, `The plan's status could not be read: ${e.message}`));
      }
    }

    function showPlan(p) {
      const last = p.last_attempt || {};
      const c = p.counts || {};
      const diagnostics = last.diagnostics || [];
      replace(
        plan,
        h("h3", {}, "Plan"),
        h(
          "p",
          { class: "sb-plan-version" },
          "Version ",
          h("strong", { class: "sb-version" }, String(p.version)),
          p.root ? [" from ", h("code", {}, p.root)] : null,
          p.loaded_at ? `, loaded ${when(p.loaded_at)}` : "",
          c.extensions !== undefined
            ? `: ${c.extensions} extensions, ${c.queues} queues, ${c.routes} dial routes, ${c.flows} flows, ${c.tests} tests.`
            : ".",
        ),
        last.at === undefined
          ? null
          : last.ok
            ? h("p", { class: "sb-good sb-last-reload" }, `The last change (${when(last.at)}) was loaded.`)
            : h(
                "p",
                { class: "sb-bad sb-last-reload" },
                `The last change (${when(last.at)}) was refused: calls go on with version ${p.version}. Fix these and save again.`,
              ),
        last.error ? h("pre", { class: "sb-reload-error" }, last.error) : null,
        diagnostics.length
          ? h(
              "ul",
              { class: "sb-findings" },
              diagnostics.map((d) =>
                h(
                  "li",
                  { class: `sb-${d.severity || "error"}` },
                  d.file
                    ? h(
                        "button",
                        {
                          type: "button",
                          class: "sb-link sb-place",
                          onclick: () => ctx.editor.openFile(files.resolve(d.file), d.line),
                        },
                        `${files.resolve(d.file)}:${d.line}:${d.column}`,
                      )
                    : null,
                  ` ${d.severity || "error"}: ${d.message}`,
                  d.help ? h("em", {}, ` — ${d.help}`) : null,
                ),
              ),
            )
          : null,
      );
    }

    function showTrunks(list) {
      if (!list.length) {
        trunks.replaceChildren();
        return;
      }
      replace(
        trunks,
        h("h3", {}, "Trunks"),
        table(
          ["Trunk", "Registrar", "Numbers", "Registration"],
          list.map((t) => [
            t.in_plan === false ? `${t.name} (not in the plan)` : t.name,
            (t.account && t.account.registrar) || t.host || "—",
            (t.numbers || []).join(", ") || "—",
            registration(t.registration || {}),
          ]),
        ),
      );
    }

    // ---- the office now -----------------------------------------------------------
    async function loadOffice() {
      let o;
      try {
        o = await get(ctx, "/api/office");
      } catch (e) {
        replace(office, h("p", { class: "sb-bad" }, `The office's state could not be read: ${e.message}`));
        return;
      }
      replace(
        office,
        section("Registered phones", o.registrations, "No phone is registered.", (list) =>
          table(
            ["User", "Phone", "Contact", "From", "Expires in"],
            list.map((r) => [
              r.user,
              r.user_agent || "",
              r.contact,
              r.transport ? `${r.source} (${r.transport})` : r.source,
              r.expires_in === undefined ? "" : `${r.expires_in} s`,
            ]),
          ),
        ),
        section("Hot desks", o.hot_desks, "Nobody is logged in to a hot-desk phone.", (list) =>
          table(
            ["Phone", "Extension", "Since", ""],
            list.map((d) => [d.device, d.extension, when(d.since), logOutButton(d)]),
          ),
        ),
        section("Queues", o.queues, "The plan has no queues.", (list) =>
          table(
            ["Queue", "Agents"],
            list.map((q) => [
              `${q.queue}${q.name ? ` ${q.name}` : ""}`,
              h(
                "ul",
                { class: "sb-agents" },
                (q.agents || []).map((a) =>
                  h(
                    "li",
                    { class: a.logged_in ? "sb-agent sb-logged-in" : "sb-agent sb-logged-out" },
                    a.extension,
                    a.logged_in ? ` logged in${a.state ? `, ${a.state}` : ""}` : " logged out",
                  ),
                ),
              ),
            ]),
          ),
        ),
        section("Parked calls", o.parked, "No call is parked.", (list) =>
          table(
            ["Orbit", "Caller", "Call"],
            list.map((p) => [p.orbit, p.from, String(p.call)]),
          ),
        ),
        mailboxes(o.mailboxes || []),
        section("SIP users", o.users, "No SIP users.", (list) => usersTable(list)),
      );
    }

    function logOutButton(d) {
      return h(
        "button",
        {
          type: "button",
          class: "sb-logout",
          onclick: async (e) => {
            if (!window.confirm(`Log ${d.extension} out of the hot-desk phone ${d.device}?`)) return;
            await act(e.target, "POST", `/api/office/hot-desks/${encodeURIComponent(d.device)}/logout`, undefined, `${d.extension} was logged out of ${d.device}.`);
          },
        },
        "Log out",
      );
    }

    function usersTable(list) {
      return table(
        ["User", "Kind", "Password", "In the plan", ""],
        list.map((u) => [
          u.name,
          u.kind === "device" ? "hot-desk phone" : u.kind,
          u.has_password ? "set" : "none",
          u.defined_in_plan ? "yes" : "no (only in the store)",
          userActions(u),
        ]),
        (u, i) => ({ dataset: { user: list[i].name } }),
      );
    }

    // "Set password" opens a password field in the row (never `prompt()`, which shows
    // what is typed); the policy's refusal is shown next to it, words as the server
    // gave them.
    function userActions(u) {
      const cell = h("div", { class: "sb-user-actions" });
      const setButton = h("button", { type: "button", class: "sb-set-password" }, "Set password");
      const remove = h(
        "button",
        {
          type: "button",
          class: "sb-remove-user",
          onclick: async (e) => {
            if (!window.confirm(`Remove the SIP password of ${u.name}? The phones registered as ${u.name} are forgotten and can no longer call or be called until it has a password again.`)) return;
            await act(e.target, "DELETE", `/api/office/users/${encodeURIComponent(u.name)}`, undefined, `${u.name} was removed.`);
          },
        },
        "Remove",
      );
      // Only a name the plan defines may get a password; only a password can be removed.
      const shown = () => [u.defined_in_plan ? setButton : null, " ", u.has_password ? remove : null];
      setButton.addEventListener("click", () => {
        const password = h("input", {
          type: "password",
          class: "sb-new-password",
          autocomplete: "new-password",
          "aria-label": `New password for ${u.name}`,
        });
        const refusal = h("span", { class: "sb-bad sb-refusal", role: "alert" });
        const save = h("button", { type: "submit", class: "sb-primary" }, "Save");
        const cancel = h("button", { type: "button", onclick: () => replace(cell, shown()) }, "Cancel");
        const form = h("form", { class: "sb-password-form" }, password, " ", save, " ", cancel, " ", refusal);
        form.addEventListener("submit", async (e) => {
          e.preventDefault();
          save.disabled = true;
          refusal.textContent = "";
          try {
            await send(ctx, "PUT", `/api/office/users/${encodeURIComponent(u.name)}/password`, { password: password.value });
            say(`The password of ${u.name} was set.`);
            loadOffice();
          } catch (err) {
            refusal.textContent = err.message;
            save.disabled = false;
            password.focus();
          }
        });
        replace(cell, form);
        password.focus();
      });
      return replace(cell, shown());
    }

    async function act(button, method, path, body, done) {
      button.disabled = true;
      try {
        await send(ctx, method, path, body);
        say(done);
        loadOffice();
      } catch (e) {
        say(e.message, true);
        button.disabled = false;
      }
    }

    function say(words, bad = false) {
      note.className = bad ? "sb-office-note sb-bad" : "sb-office-note sb-good";
      note.textContent = words;
    }

    // Only the mailboxes holding messages get a row: an office has many empty ones.
    function mailboxes(all) {
      const full = all.filter((m) => m.new || m.saved);
      const empty = all.length - full.length;
      return section("Mailboxes", full, `No messages in any of the ${all.length} mailboxes.`, (list) => [
        table(
          ["Mailbox", "New", "Saved"],
          list.map((m) => [m.mailbox, String(m.new), String(m.saved)]),
        ),
        empty ? h("p", { class: "muted" }, `The other ${empty} mailboxes are empty.`) : null,
      ]);
    }

    function section(title, list, none, render) {
      const items = list || [];
      return h(
        "section",
        { class: `sb-office-section`, dataset: { section: title } },
        h("h3", {}, title),
        items.length ? render(items) : h("p", { class: "muted" }, none),
      );
    }

    ctx.events.on("office", loadOffice);
    ctx.events.on("plan", () => {
      loadPlan();
      loadOffice();
    });
    loadPlan();
    loadOffice();
  },
};

// A table of `rows` (arrays of cells: text or nodes) under `head`.
function table(head, rows, rowProps = () => ({})) {
  return h(
    "table",
    { class: "sb-table" },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
    h(
      "tbody",
      {},
      rows.map((cells, i) => h("tr", rowProps(cells, i), cells.map((c) => h("td", {}, c)))),
    ),
  );
}

function registration(r) {
  switch (r.state) {
    case "not_configured":
      return "no account configured (trusted by address)";
    case "disabled":
      return "registration off";
    case "registering":
      return "registering…";
    case "registered":
      return `registered until ${when(r.until)}`;
    case "failing":
      return `failing since ${when(r.since)}: ${r.reason}; next attempt ${when(r.next_attempt)}`;
    case "unregistered":
      return "unregistered";
    default:
      return r.state || "";
  }
}
