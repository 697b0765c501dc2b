// A small pop-up menu under a button (the conversation's ⋯ menu, a phone number's
// Call / Send SMS / Copy). Closed by choosing, clicking elsewhere or Escape.

import { h } from '../../../shared/dom.js';

let open = null;

function closeMenu() {
  if (!open) return;
  open.el.remove();
  document.removeEventListener('pointerdown', open.outside, true);
  document.removeEventListener('keydown', open.key, true);
  open = null;
}

/**
 * Opens a menu by `anchor`; `items` are `{label, action}` (a function), `{label, href}`
 * (a link, for `tel:` and `mailto:`), with `danger` for the ones that destroy something.
 */
export function openMenu(anchor, items, name = 'menu') {
  closeMenu();
  const list = h(
    'div.menu',
    { attrs: { role: 'menu', 'aria-label': name } },
    items.map((item) =>
      item.href
        ? h('a.menu-item', { href: item.href, attrs: { role: 'menuitem' }, dataset: { action: item.id || '' }, onclick: () => closeMenu() }, item.label)
        : h(
            'button.menu-item' + (item.danger ? '.danger' : ''),
            {
              type: 'button',
              attrs: { role: 'menuitem' },
              dataset: { action: item.id || '' },
              onclick: () => {
                closeMenu();
                item.action();
              },
            },
            item.label,
          ),
    ),
  );
  const box = anchor.getBoundingClientRect();
  list.style.top = `${Math.round(box.bottom + 4)}px`;
  list.style.left = `${Math.round(Math.max(8, Math.min(box.left, window.innerWidth - 220)))}px`;
  document.body.append(list);
  const outside = (e) => {
    if (!list.contains(e.target) && e.target !== anchor) closeMenu();
  };
  const key = (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeMenu();
      anchor.focus();
    }
  };
  document.addEventListener('pointerdown', outside, true);
  document.addEventListener('keydown', key, true);
  open = { el: list, outside, key };
  const first = list.querySelector('.menu-item');
  if (first) first.focus();
}
