// The Tests panel: runs the plan's `test` blocks on the server (`POST /api/tests`, the
// unsaved buffers laid over the files on disk, so what is tested is what is on screen)
// and lists them passed and failed. A failure shows its message and the trace of the
// call it made, each entry a link to its source line.

import { h, replace } from "./dom.js";
import { send } from "./request.js";
import { PlanFiles, traceList } from "./trace.js";

export const testsPanel = {
  id: "tests",
  title: "Tests",
  mount(el, ctx) {
    const files = new PlanFiles(ctx);
    const summary = h("span", { class: "sb-summary", role: "status" }, "Not run yet.");
    const run = h("button", { type: "button", class: "sb-primary sb-tests-run" }, "Run tests");
    const list = h("div", { class: "sb-tests-list" });
    el.classList.add("sb-panel", "sb-panel-tests");
    replace(el, h("div", { class: "sb-toolbar" }, run, summary), list);

    const open = (place) => ctx.editor.openFile(files.resolve(place.file), place.line);

    run.addEventListener("click", async () => {
      run.disabled = true;
      summary.className = "sb-summary";
      summary.textContent = "Running…";
      try {
        const [answer] = await Promise.all([
          send(ctx, "POST", "/api/tests", { files: ctx.editor.buffers() }),
          files.refresh(),
        ]);
        showResults(answer);
      } catch (e) {
        summary.className = "sb-summary sb-bad";
        summary.textContent = `The tests could not run: ${e.message}`;
        list.replaceChildren();
      } finally {
        run.disabled = false;
      }
    });

    function showResults(answer) {
      const tests = answer.tests || [];
      const failed = answer.failed ?? tests.filter((t) => !t.passed).length;
      const passed = answer.passed ?? tests.length - failed;
      summary.className = failed ? "sb-summary sb-bad" : "sb-summary sb-good";
      summary.textContent =
        tests.length === 0
          ? "The plan has no tests."
          : `${passed} passed, ${failed} failed`;
      // Failures first: they are what the admin came for.
      const ordered = [...tests.filter((t) => !t.passed), ...tests.filter((t) => t.passed)];
      replace(list, h("ul", { class: "sb-tests" }, ordered.map(testItem)));
    }

    function testItem(t) {
      const place = h(
        "button",
        {
          type: "button",
          class: "sb-link sb-place",
          title: `Show the test in ${t.file}`,
          onclick: () => open({ file: t.file, line: t.line }),
        },
        `${files.resolve(t.file)}:${t.line}`,
      );
      const head = h(
        "div",
        { class: "sb-test-head" },
        h("span", { class: "sb-mark", "aria-hidden": "true" }, t.passed ? "✓" : "✗"),
        h("span", { class: "sb-test-name" }, t.name),
        " ",
        place,
      );
      const item = h(
        "li",
        {
          class: t.passed ? "sb-test sb-passed" : "sb-test sb-failed",
          dataset: { test: t.name },
        },
        head,
      );
      const f = t.failure;
      if (f) {
        const trace = (f.trace || []).map((e) => ({ ...e, file: e.file ? files.resolve(e.file) : null }));
        item.append(
          h(
            "div",
            { class: "sb-failure" },
            h(
              "p",
              { class: "sb-failure-message" },
              f.file
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "sb-link sb-place",
                      onclick: () => open({ file: f.file, line: f.line }),
                    },
                    `${files.resolve(f.file)}:${f.line}`,
                  )
                : null,
              " ",
              f.message,
            ),
            trace.length
              ? h("details", { open: true }, h("summary", {}, "The call's trace"), traceList(trace, open))
              : null,
          ),
        );
      }
      return item;
    }
  },
};
