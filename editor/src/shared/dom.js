// Building the page from code. Text always goes in as text nodes, never as HTML, so
// nothing a file, a server message or a name holds can become markup.

/**
 * `h('button.btn.primary', {onclick, title}, 'Save')`: an element with classes from the
 * tag, properties (`on*` become listeners, `dataset` and `attrs` are objects) and
 * children (strings become text; null and false are skipped).
 */
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) el.setAttribute(a, v);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A modal dialog. `body` is an element or text; `buttons` are `{label, value, kind}`.
 * With `input` (`{label, value}`) it asks for a line of text. Resolves to the chosen
 * button's value (and the text as `{value, text}` when there is an input), or null when
 * dismissed with Escape. `onOpen(close)` gets a function that closes it with a value, for
 * bodies that choose by themselves (a list of people to click).
 */
export function dialog({ title, body, buttons, input, wide, onOpen }) {
  return new Promise((resolve) => {
    const field = input ? h('input.text', { type: 'text', value: input.value || '', spellcheck: false }) : null;
    // Where the keyboard was, to go back there (the editor, mostly).
    const before = document.activeElement;
    const finish = (value) => {
      overlay.remove();
      if (before && before.isConnected && typeof before.focus === 'function') before.focus();
      document.removeEventListener('keydown', onKey, true);
      resolve(input && value !== null ? { value, text: field.value.trim() } : value);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        finish(null);
      } else if (e.key === 'Enter' && field && document.activeElement === field) {
        e.preventDefault();
        const primary = buttons.find((b) => b.kind === 'primary') || buttons[0];
        finish(primary.value);
      }
    };
    const box = h(
      'div.dialog' + (wide ? '.wide' : ''),
      { attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-label': title } },
      h('h2', {}, title),
      body ? h('div.dialog-body', {}, body) : null,
      field ? h('label.field', {}, input.label, field) : null,
      h(
        'div.dialog-buttons',
        {},
        buttons.map((b) =>
          h('button.btn' + (b.kind ? '.' + b.kind : ''), { type: 'button', onclick: () => finish(b.value) }, b.label),
        ),
      ),
    );
    const overlay = h('div.overlay', {}, box);
    document.body.append(overlay);
    document.addEventListener('keydown', onKey, true);
    (field || box.querySelector('.btn.primary') || box.querySelector('.btn')).focus();
    if (onOpen) onOpen(finish);
  });
}
