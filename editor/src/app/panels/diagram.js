// The Diagram panel: the flow under the editor's cursor, drawn. The server compiles the
// plan and answers the flow as a graph (`GET /api/flow?path=&line=`): its steps, menus
// and targets as nodes, menu keys and branches as labelled edges. Drawn here as SVG,
// top-down (`layout.js`). A node's click opens its line in the editor; a node that
// leads to another flow opens that flow's diagram instead (Back returns).

import { debounce, h, replace, s } from "./dom.js";
import { get } from "./request.js";
import { PlanFiles } from "./trace.js";
import { layout } from "./layout.js";

const FONT_FAMILY = "system-ui, sans-serif";
const FONT_SIZE = 12;
const LABEL_SIZE = 11;
const NODE_HEIGHT = 30;
const NODE_PAD = 12; // each side of a node's text
const MIN_SCALE = 0.6; // the smallest "Fit" shrinks a drawing to
const MAX_LABEL = 48; // characters a node shows; the whole label is its tooltip

export const diagramPanel = {
  id: "diagram",
  title: "Diagram",
  mount(el, ctx) {
    const files = new PlanFiles(ctx);
    // What is drawn: the query it came from, and the flows opened from it (for Back).
    let shown = null;
    let shownJson = "";
    const history = [];
    let asked = 0;

    const follow = h("input", { type: "checkbox", checked: true, class: "sb-follow" });
    const fit = h("input", { type: "checkbox", checked: true, class: "sb-fit" });
    const nameInput = h("input", { class: "sb-flow-name", placeholder: "main_menu", size: 14, "aria-label": "Flow name" });
    const showByName = h("button", { type: "submit" }, "Show");
    const backButton = h("button", { type: "button", class: "sb-back", disabled: true }, "Back");
    const title = h("div", { class: "sb-diagram-title" });
    const note = h("p", { class: "sb-diagram-note muted", role: "status" }, "Put the cursor in a flow to see it drawn.");
    const canvas = h("div", { class: "sb-diagram-canvas" });
    const byName = h("form", { class: "sb-flow-by-name" }, nameInput, " ", showByName);
    el.classList.add("sb-panel", "sb-panel-diagram");
    replace(
      el,
      h(
        "div",
        { class: "sb-toolbar" },
        h("label", {}, follow, " Follow the cursor"),
        h("label", { title: "Shrink a large flow to the panel (down to 60%); scroll for the rest" }, fit, " Fit"),
        byName,
        backButton,
      ),
      title,
      note,
      canvas,
    );

    byName.addEventListener("submit", (e) => {
      e.preventDefault();
      const name = nameInput.value.trim();
      if (name) open({ name }, true);
    });
    backButton.addEventListener("click", () => {
      const previous = history.pop();
      backButton.disabled = history.length === 0;
      if (previous) open(previous, false);
    });

    // Asks for the flow at `query` ({path, line} or {name}) and draws it. `remember`
    // keeps what was shown for Back.
    async function open(query, remember) {
      const mine = ++asked;
      const params = new URLSearchParams(query.name ? { name: query.name } : { path: query.path, line: String(query.line) });
      let flow;
      try {
        [flow] = await Promise.all([get(ctx, `/api/flow?${params}`), files.ready()]);
      } catch (e) {
        if (mine !== asked) return;
        // Between flows (a comment, a route) the last diagram stays, with a word why.
        note.textContent = e.status === 404 ? `${e.message}` : `The flow could not be drawn: ${e.message}`;
        note.className = e.status === 404 ? "sb-diagram-note muted" : "sb-diagram-note sb-bad";
        return;
      }
      if (mine !== asked) return;
      if (remember && shown && shown.flow !== flow.flow) {
        history.push(shown.query);
        backButton.disabled = false;
      }
      note.textContent = unsavedNote(flow);
      note.className = "sb-diagram-note muted";
      const json = JSON.stringify(flow);
      shown = { query: query.name ? { name: flow.flow } : query, flow: flow.flow };
      if (json !== shownJson) {
        // A new drawing; the same one is kept (and its scroll).
        shownJson = json;
        draw(flow);
      }
      markCursor();
    }

    // The nodes of the cursor's line are marked, so the drawing shows where one is.
    function markCursor() {
      const c = ctx.editor.cursor();
      for (const node of canvas.querySelectorAll(".sb-node")) {
        const here = c && node.dataset.file === c.path && Number(node.dataset.line) === c.line;
        node.classList.toggle("sb-node-here", !!here);
      }
    }

    function unsavedNote(flow) {
      const buffers = ctx.editor.buffers() || {};
      return Object.keys(buffers).includes(files.resolve(flow.file))
        ? `${files.resolve(flow.file)} has unsaved changes: the diagram shows the saved plan.`
        : "";
    }

    function draw(flow) {
      const file = files.resolve(flow.file);
      replace(
        title,
        "Flow ",
        h("strong", { class: "sb-flow" }, flow.flow),
        " ",
        h(
          "button",
          { type: "button", class: "sb-link sb-place", onclick: () => ctx.editor.openFile(file, flow.line) },
          `${file}:${flow.line}`,
        ),
      );
      replace(canvas, svgOf(flow));
      scaleToFit();
    }

    // The drawing keeps its natural size (its viewBox) and is shown at the largest scale
    // up to 1 at which it fits the panel, never under MIN_SCALE: smaller text is not
    // worth reading, so a larger flow scrolls instead.
    function scaleToFit() {
      const svg = canvas.querySelector("svg");
      if (!svg) return;
      const natural = svg.viewBox.baseVal;
      let scale = 1;
      if (fit.checked && canvas.clientWidth && canvas.clientHeight) {
        scale = Math.min(1, canvas.clientWidth / natural.width, (canvas.clientHeight - 4) / natural.height);
        scale = Math.max(MIN_SCALE, scale);
      }
      svg.setAttribute("width", Math.floor(natural.width * scale));
      svg.setAttribute("height", Math.floor(natural.height * scale));
    }
    fit.addEventListener("change", scaleToFit);
    // The panel is hidden (size 0) until its tab is shown, and the page can be resized.
    new ResizeObserver(() => scaleToFit()).observe(canvas);

    function svgOf(flow) {
      const nodes = (flow.nodes || []).map((n) => {
        const label = shorten(n.label || n.kind || "");
        return { ...n, shortLabel: label, width: Math.ceil(textWidth(label, FONT_SIZE)) + 2 * NODE_PAD, height: NODE_HEIGHT };
      });
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const placed = layout(nodes, flow.edges || []);
      // The labels of edges going back up stand right of their lane: room for them.
      const width = Math.max(
        placed.width,
        ...placed.edges.filter((e) => e.back && e.label).map((e) => e.labelAt[0] + labelWidth(e.label) + 8),
      );
      const svg = s(
        "svg",
        {
          class: "sb-diagram",
          width,
          height: placed.height,
          viewBox: `0 0 ${width} ${placed.height}`,
          role: "img",
          "aria-label": `Diagram of the flow ${flow.flow}`,
          "font-family": FONT_FAMILY,
          "font-size": FONT_SIZE,
        },
        s(
          "defs",
          {},
          s(
            "marker",
            { id: "sb-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
            s("path", { d: "M0,0 L10,5 L0,10 z", class: "sb-arrowhead" }),
          ),
        ),
      );
      const edgeLayer = s("g", { class: "sb-edges" });
      const labelLayer = s("g", { class: "sb-edge-labels" });
      for (const e of placed.edges) {
        edgeLayer.append(
          s("path", {
            d: e.back ? polyline(e.points) : curve(e.points),
            class: e.back ? "sb-edge sb-edge-back" : "sb-edge",
            "marker-end": "url(#sb-arrow)",
            dataset: { from: e.from, to: e.to },
          }),
        );
        if (e.label) labelLayer.append(edgeLabel(e));
      }
      const nodeLayer = s("g", { class: "sb-nodes" });
      for (const [id, box] of placed.nodes) nodeLayer.append(nodeOf(byId.get(id), box));
      svg.append(edgeLayer, nodeLayer, labelLayer);
      return svg;
    }

    function nodeOf(n, box) {
      const target = n.kind === "target";
      const leadsToFlow = target && n.flow;
      const where = n.file ? `${files.resolve(n.file)}:${n.line}` : "";
      const tip = leadsToFlow ? `${n.label}: click to see the flow ${n.flow}` : `${n.label}${where ? ` (${where})` : ""}`;
      const g = s(
        "g",
        {
          class: `sb-node sb-node-${String(n.kind || "step").replace(/[^a-z0-9_-]/gi, "")}${leadsToFlow ? " sb-node-flow" : ""}`,
          transform: `translate(${box.x},${box.y})`,
          tabindex: 0,
          role: "button",
          dataset: {
            id: n.id,
            kind: n.kind || "",
            file: n.file ? files.resolve(n.file) : "",
            line: n.line ?? "",
            label: n.label || "",
          },
        },
        s("title", {}, tip),
        s("rect", { width: box.width, height: box.height, rx: target ? box.height / 2 : n.kind === "menu" ? 2 : 6 }),
        s("text", { x: box.width / 2, y: box.height / 2, "text-anchor": "middle", "dominant-baseline": "central" }, n.shortLabel),
      );
      const activate = () => {
        if (leadsToFlow) open({ name: n.flow }, true);
        else if (n.file) ctx.editor.openFile(files.resolve(n.file), n.line);
      };
      g.addEventListener("click", activate);
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          activate();
        }
      });
      return g;
    }

    function edgeLabel(e) {
      const text = shorten(e.label);
      const width = labelWidth(e.label);
      const [x, y] = e.labelAt;
      const left = e.back ? x : x - width / 2;
      return s(
        "g",
        { class: "sb-edge-label", dataset: { label: e.label } },
        s("rect", { x: left, y: y - 8, width, height: 16, rx: 3 }),
        s("text", { x: left + width / 2, y, "text-anchor": "middle", "dominant-baseline": "central", "font-size": LABEL_SIZE }, text),
      );
    }

    const fromCursor = debounce(() => {
      if (!follow.checked) return;
      const c = ctx.editor.cursor();
      if (c && c.path && c.line) open({ path: c.path, line: c.line }, false);
    }, 250);
    ctx.editor.onCursor(fromCursor);
    follow.addEventListener("change", fromCursor);
    ctx.events.on("plan", () => {
      files.refresh();
      shownJson = "";
      if (shown) open(shown.query, false);
    });
    fromCursor();
  },
};

// One smooth curve through `points`, leaving and arriving vertically.
function curve(points) {
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const my = (y0 + y1) / 2;
    d += ` C${x0},${my} ${x1},${my} ${x1},${y1}`;
  }
  return d;
}

// Straight segments with rounded corners: the edges going back up along their lane.
function polyline(points) {
  const r = 6;
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [px, py] = points[i - 1];
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    const inLen = Math.hypot(x - px, y - py) || 1;
    const outLen = Math.hypot(nx - x, ny - y) || 1;
    const a = Math.min(r, inLen / 2);
    const b = Math.min(r, outLen / 2);
    d += ` L${x - ((x - px) / inLen) * a},${y - ((y - py) / inLen) * a}`;
    d += ` Q${x},${y} ${x + ((nx - x) / outLen) * b},${y + ((ny - y) / outLen) * b}`;
  }
  const [lx, ly] = points[points.length - 1];
  return `${d} L${lx},${ly}`;
}

function labelWidth(label) {
  return Math.ceil(textWidth(shorten(label), LABEL_SIZE)) + 8;
}

function shorten(text) {
  const t = String(text);
  return t.length > MAX_LABEL ? `${t.slice(0, MAX_LABEL - 1)}…` : t;
}

let measureContext = null;
// The width `text` takes in the diagram's font, measured by the browser so boxes fit.
function textWidth(text, size) {
  if (!measureContext) measureContext = document.createElement("canvas").getContext("2d");
  if (!measureContext) return text.length * size * 0.6;
  measureContext.font = `${size}px ${FONT_FAMILY}`;
  return measureContext.measureText(text).width;
}
