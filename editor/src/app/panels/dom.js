// Building the panels' DOM. Every text goes in as a text node, never as HTML: callers'
// numbers come from SIP and trace lines quote the admin's files, so nothing a panel
// shows can turn into markup.

const SVG_NS = "http://www.w3.org/2000/svg";

// `h("button", {class: "x", onclick: fn, title: "t"}, "text", child, [more])`.
// Props: `class`, `dataset` (an object), `on<event>` (a listener), any other name an
// attribute (`false`/`null`/`undefined` leave it out, `true` sets it empty).
export function h(tag, props, ...children) {
  return fill(document.createElement(tag), props, children);
}

// The same for SVG elements, which live in their own namespace.
export function s(tag, props, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

// Replaces everything in `el` with `children`.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function fill(el, props, children) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") {
      el.setAttribute("class", value);
    } else if (name === "dataset") {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "value" && "value" in el) {
      el.value = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// `fn` called at most once per `ms`, after the calls stop: the cursor moves many times
// a second while typing, the server need hear of it once.
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// "3 minutes ago"-free local time: the office reads clocks, not distances.
export function when(rfc3339) {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return String(rfc3339);
  return d.toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}
