// The Simulator panel: walk one call through the plan. The admin picks who calls (a
// desk's extension, a hot-desk phone, or an outside number on a trunk), the number
// dialled and the office time, then presses keys, lets time pass and says what a rung
// phone does. The server is stateless (`POST /api/simulate`): every action so far is
// sent each time and the call is replayed from the start, deterministic as the engine
// is. The steps are listed, the current one is lit in the editor, and the prompts the
// new steps play are played in order.

import { h, replace } from "./dom.js";
import { get, send } from "./request.js";
import { PlanFiles } from "./trace.js";
import { PromptPlayer, stepPrompts } from "./prompt_player.js";
import { callSetup } from "./sim_setup.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

export const simulatorPanel = {
  id: "simulator",
  title: "Simulator",
  mount(el, ctx) {
    const files = new PlanFiles(ctx);
    const player = new PromptPlayer();
    // The call as set up by the last "Call", the actions since, and the last answer.
    let call = null;
    let actions = [];
    let reply = null;
    // Answers can overtake each other; only the newest request's counts.
    let sent = 0;

    const { form, hangUp } = callSetup(ctx, { onCall: (setup) => startCall(setup), showError: (w) => showError(w) });

    // ---- during the call ----------------------------------------------------------
    const keypad = h(
      "div",
      { class: "sb-keypad", role: "group", "aria-label": "Keypad" },
      KEYS.map((k) =>
        h("button", { type: "button", class: "sb-key", dataset: { key: k }, onclick: () => act({ press: k }) }, k),
      ),
    );
    const typed = h("input", { class: "sb-typed", placeholder: "1234#", size: 8, "aria-label": "Keys to press" });
    const pressTyped = h("button", { type: "button", class: "sb-press" }, "Press");
    pressTyped.addEventListener("click", () => {
      const keys = typed.value.replace(/\s+/g, "");
      if (!/^[0-9*#]+$/.test(keys)) {
        showError("Keys are 0 to 9, * and #, like 1234#.");
        return;
      }
      typed.value = "";
      act({ press: keys });
    });
    const untilTimeout = h("button", { type: "button", class: "sb-wait-timeout", disabled: true }, "Wait for the timeout");
    const waitFor = h("input", { class: "sb-wait-for", placeholder: "30s", size: 5, "aria-label": "Time to let pass" });
    const waitButton = h("button", { type: "button", class: "sb-wait" }, "Wait");
    waitButton.addEventListener("click", () => {
      const d = waitFor.value.trim();
      if (!/^\d+(\.\d+)?\s*(ms|s|m|h)$/.test(d)) {
        showError("Say how long to wait like 30s, 2m or 500ms.");
        return;
      }
      act({ wait: d.replace(/\s+/g, "") });
    });
    const waits = h(
      "div",
      { class: "sb-waits" },
      h("button", { type: "button", class: "sb-wait-1", onclick: () => act({ wait: "1s" }) }, "Wait 1s"),
      h("button", { type: "button", class: "sb-wait-5", onclick: () => act({ wait: "5s" }) }, "Wait 5s"),
      untilTimeout,
      h("span", { class: "sb-wait-custom" }, waitFor, waitButton),
    );
    const farEnd = h("div", { class: "sb-far-end", hidden: true });
    const controls = h(
      "div",
      { class: "sb-sim-controls", hidden: true },
      h("div", { class: "sb-keys" }, keypad, h("div", { class: "sb-typed-keys" }, typed, pressTyped)),
      h("div", { class: "sb-sim-side" }, waits, farEnd),
    );
    const status = h("p", { class: "sb-sim-status", role: "status" }, "Set up a call and press Call.");
    const steps = h("ol", { class: "sb-steps" });

    el.classList.add("sb-panel", "sb-panel-simulator");
    replace(
      el,
      form,
      h(
        "div",
        { class: "sb-sim-body" },
        h("div", { class: "sb-sim-left" }, controls),
        h("div", { class: "sb-sim-right" }, h("div", { class: "sb-sim-state" }, status, player.el), steps),
      ),
    );

    // ---- actions -----------------------------------------------------------------
    function startCall(setup) {
      player.stop();
      // The last call's steps and light go; a refused set-up leaves nothing behind.
      steps.replaceChildren();
      controls.hidden = true;
      ctx.editor.highlight(null);
      call = setup;
      actions = [];
      reply = null;
      simulate();
    }

    hangUp.addEventListener("click", () => endCall("Hung up."));

    // The computer's keys work as the keypad's while the focus is in the panel but not
    // in a field (after a click on a keypad button, say).
    el.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
      if (KEYS.includes(e.key) && !controls.hidden) {
        e.preventDefault();
        act({ press: e.key });
      }
    });

    // Each key of the keypad is its own action, as a caller presses one key after
    // another (the call runs between them); the typed keys go as one `press 1234#`.
    function act(action) {
      if (!call || !reply || reply.ended) return;
      // A key stops the prompt playing, as on a phone; the next ones follow the answer.
      if (action.press !== undefined) player.stop();
      actions = [...actions, action];
      simulate();
    }

    async function simulate() {
      const mine = ++sent;
      const body = { ...call, actions, files: ctx.editor.buffers() };
      status.className = "sb-sim-status";
      status.textContent = actions.length ? "…" : "Calling…";
      try {
        const [answer] = await Promise.all([send(ctx, "POST", "/api/simulate", body), files.ready()]);
        if (mine !== sent) return;
        const before = reply;
        reply = answer;
        show(before);
      } catch (e) {
        if (mine !== sent) return;
        // The last action was refused: forget it, so the next one replays what worked.
        if (actions.length) actions = actions.slice(0, -1);
        else call = null;
        showError(e.message);
      }
    }

    function show(before) {
      const list = (reply.steps || []).map((s) => ({ ...s, file: s.file ? files.resolve(s.file) : null }));
      reply.steps = list;
      renderSteps(list);
      playNew(before ? before.steps || [] : [], list);
      hangUp.disabled = false;
      controls.hidden = !!reply.ended;
      const cur = reply.current;
      if (reply.ended) {
        status.className = "sb-sim-status sb-ended";
        status.textContent = "The call is over.";
        ctx.editor.highlight(null);
        hangUp.disabled = true;
      } else {
        status.className = "sb-sim-status";
        status.textContent = reply.waiting ? `Waiting for ${reply.waiting}.` : waitingWords(reply.waiting_for);
      }
      if (cur && cur.file && !reply.ended) light(files.resolve(cur.file), cur.line);
      updateTimeout(cur);
      updateFarEnd(list);
    }

    function endCall(words) {
      sent++;
      player.stop();
      call = null;
      actions = [];
      reply = null;
      controls.hidden = true;
      hangUp.disabled = true;
      ctx.editor.highlight(null);
      status.className = "sb-sim-status sb-ended";
      status.textContent = words;
      for (const li of steps.querySelectorAll(".sb-current")) li.classList.remove("sb-current");
    }

    // `highlight` opens the file and scrolls to the line without moving the cursor or
    // taking the focus, so the keypad keeps it.
    function light(path, line) {
      ctx.editor.highlight(path, line);
    }

    // The prompts of the steps this answer adds to the last one's (the call replays
    // the same way, so the old steps are a prefix), or of every step if they differ.
    function playNew(old, now) {
      const same = old.length <= now.length && old.every((s, i) => s.text === now[i].text && s.line === now[i].line);
      const fresh = same ? now.slice(old.length) : now;
      if (!same) player.stop();
      for (const s of fresh) {
        const names = stepPrompts(s);
        if (names.length) player.enqueue(names, s.language || s.lang || "en");
      }
    }

    function renderSteps(list) {
      const items = [];
      let shown = -1;
      // The server says when an action changed nothing (a far end the call was not
      // ringing): shown beside it, so the admin knows why no step followed.
      const done = reply.actions || [];
      const marker = (i) =>
        h(
          "li",
          { class: "sb-action", dataset: { action: i } },
          "▸ ",
          actionWords(actions[i]),
          done[i] && done[i].nothing_happened
            ? h("span", { class: "sb-nothing" }, ` — nothing happens: ${done[i].nothing_happened}`)
            : null,
        );
      const cur = reply.current;
      let currentIndex = -1;
      if (cur && !reply.ended) {
        const file = files.resolve(cur.file);
        list.forEach((s, i) => {
          if (s.file === file && s.line === cur.line) currentIndex = i;
        });
      }
      list.forEach((s, i) => {
        const after = s.after_action ?? -1;
        while (shown < after && shown < actions.length - 1) items.push(marker(++shown));
        items.push(stepItem(s, i === currentIndex));
      });
      while (shown < actions.length - 1) items.push(marker(++shown));
      replace(steps, items);
      const lit = steps.querySelector(".sb-current");
      if (lit) lit.scrollIntoView({ block: "nearest" });
    }

    function stepItem(s, current) {
      return h(
        "li",
        {
          class: current ? `sb-step sb-current sb-kind-${s.kind || "step"}` : `sb-step sb-kind-${s.kind || "step"}`,
          dataset: { file: s.file || "", line: s.line ?? "" },
        },
        s.file
          ? h(
              "button",
              {
                type: "button",
                class: "sb-link sb-place",
                title: `Show ${s.file} line ${s.line}`,
                onclick: () => ctx.editor.openFile(s.file, s.line),
              },
              `${s.file}:${s.line}`,
            )
          : h("span", { class: "sb-place sb-noplace" }, "—"),
        " ",
        h("span", { class: "sb-step-text" }, s.text),
      );
    }

    // "Wait for the timeout" waits as long as the current step's line says
    // (`menu "vm-main" timeout 10s`, `ask ... timeout 10s`); a step with no timeout
    // there leaves it off.
    async function updateTimeout(cur) {
      untilTimeout.disabled = true;
      untilTimeout.textContent = "Wait for the timeout";
      untilTimeout.onclick = null;
      if (!cur || !cur.file || reply.ended) return;
      const path = files.resolve(cur.file);
      const text = await fileText(path);
      const line = text ? text.split("\n")[cur.line - 1] || "" : "";
      const m = /\btimeout\s+(\d+(?:\.\d+)?(?:ms|s|m|h))\b/.exec(line);
      if (!m || reply?.current !== cur) return;
      untilTimeout.disabled = false;
      untilTimeout.textContent = `Wait ${m[1]} (the timeout)`;
      untilTimeout.onclick = () => act({ wait: m[1] });
    }

    async function fileText(path) {
      const buffers = ctx.editor.buffers() || {};
      if (typeof buffers[path] === "string") return buffers[path];
      try {
        return (await get(ctx, `/api/files/${path.split("/").map(encodeURIComponent).join("/")}`)).text;
      } catch {
        return null;
      }
    }

    // When the call is ringing someone (the last step rings an extension, a queue or a
    // trunk), the admin says what that far end does, in a test's words.
    function updateFarEnd(list) {
      const party = reply.ended ? null : ringing(list);
      farEnd.hidden = !party;
      if (!party) {
        farEnd.replaceChildren();
        return;
      }
      const other = h("input", {
        class: "sb-far-end-text",
        placeholder: `${party} answers after 5s`,
        size: 24,
        "aria-label": "What a far end does",
      });
      replace(
        farEnd,
        h("span", { class: "sb-far-end-label" }, `Ringing ${party}: `),
        farEndButton(`${party} answers`, "answers"),
        farEndButton(`${party} is busy`, "busy"),
        farEndButton(`${party} never answers`, "never answers"),
        h(
          "span",
          { class: "sb-far-end-other" },
          other,
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                if (other.value.trim()) act({ far_end: other.value.trim() });
              },
            },
            "Do",
          ),
        ),
      );
    }

    // What the call rings: the last step that rang someone, while the call waits for
    // someone to answer (the server's words), else only when it is the last step.
    function ringing(list) {
      if (reply.waiting && !/answer/.test(reply.waiting)) return null;
      for (let i = list.length - 1; i >= 0; i--) {
        const party = rungParty(list[i]);
        if (party) return party;
        if (!reply.waiting) return null;
      }
      return null;
    }

    function farEndButton(phrase, label) {
      return h(
        "button",
        { type: "button", class: "sb-far-end-choice", title: phrase, onclick: () => act({ far_end: phrase }) },
        label,
      );
    }

    function showError(words) {
      status.className = "sb-sim-status sb-bad";
      status.textContent = words;
      return null;
    }

    ctx.events.on("plan", () => files.refresh());
  },
};

// `extension 102`, `queue 800`, `trunk main +18885550100` → the party as a far-end
// phrase names it (`extension 102`, `queue 800`, `trunk main`); anything else → null.
function rungParty(step) {
  const m = /^(extension|queue|trunk|ring)\s+("[^"]*"|\S+)/.exec(step.text || "");
  if (!m) return null;
  const kind = m[1] === "ring" ? "extension" : m[1];
  return `${kind} ${m[2].replaceAll('"', "")}`;
}

function actionWords(a) {
  if (!a) return "";
  if (a.press !== undefined) return `press ${a.press}`;
  if (a.wait !== undefined) return `wait ${a.wait}`;
  if (a.far_end !== undefined) return a.far_end;
  return JSON.stringify(a);
}

function waitingWords(w) {
  switch (w) {
    case "keys":
      return "Waiting for the caller's keys.";
    case "time":
      return "Waiting for time to pass (or a key).";
    case null:
    case undefined:
      return "Waiting.";
    default:
      return `Waiting for ${w}.`;
  }
}
