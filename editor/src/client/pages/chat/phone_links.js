// Phone numbers in a message become links: clicking one offers Call (a `tel:` link, which
// the computer's phone app or softphone takes), Send SMS (starts an SMS chat to it) and
// Copy. The message stays text: the links are built around text nodes, never from HTML.

import { h } from '../../../shared/dom.js';
import { openMenu } from './menu.js';

// A run of digits with the usual separators, optionally after `+`: "+1 (260) 205-8900",
// "260.205.8900", "02 9876 5432". Seven to fifteen digits (E.164's most) count as a number.
const CANDIDATE = /\+?\d[\d ().-]{5,}\d/g;

/** The digits of `text` with a leading `+` kept: what a dialler takes. */
export function dialable(text) {
  const digits = text.replace(/\D/g, '');
  return (text.trim().startsWith('+') ? '+' : '') + digits;
}

/**
 * `text` as a list of strings and number links. `actions.sms(number)` starts an SMS chat;
 * `actions.copied(number)` says the copy worked.
 */
export function withPhoneLinks(text, actions) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const raw = match[0];
    const count = raw.replace(/\D/g, '').length;
    if (count < 7 || count > 15) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(numberLink(raw, actions));
    last = match.index + raw.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function numberLink(raw, actions) {
  const number = dialable(raw);
  const link = h(
    'button.phone-link',
    {
      type: 'button',
      title: `${number}: call, send an SMS or copy`,
      dataset: { number },
      onclick: () =>
        openMenu(
          link,
          [
            { id: 'call', label: `Call ${number}`, href: `tel:${number}` },
            { id: 'sms', label: 'Send SMS', action: () => actions.sms(number) },
            { id: 'copy', label: 'Copy', action: () => copy(number, actions) },
          ],
          `phone number ${number}`,
        ),
    },
    raw,
  );
  return link;
}

async function copy(number, actions) {
  try {
    await navigator.clipboard.writeText(number);
  } catch {
    // No clipboard API (a page over plain HTTP on another host): select the text instead.
    const field = h('textarea.offscreen', { value: number });
    document.body.append(field);
    field.select();
    document.execCommand('copy');
    field.remove();
  }
  actions.copied(number);
}
