// Phone numbers in a message become links: clicking one offers Call (the server rings the
// person's own phone, then the number: `POST /api/chat/call`; a `tel:` link, which the
// computer's phone app or softphone takes, when their phone is not registered), Send SMS
// (starts an SMS chat to it), Add to contacts and Copy. The message stays text: the links are built around text nodes, never from HTML.

import { h, dialog } from '../../../shared/dom.js';
import { openMenu } from './menu.js';
import { addContact } from './contact_form.js';

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
            actions.ctx
              ? { id: 'call', label: `Call ${number}`, action: () => callNumber(actions.ctx, number) }
              : { id: 'call', label: `Call ${number}`, href: `tel:${number}` },
            { id: 'sms', label: 'Send SMS', action: () => actions.sms(number) },
            actions.ctx ? { id: 'contact', label: 'Add to contacts', action: () => addContact(actions.ctx, { phones: [number] }) } : null,
            { id: 'copy', label: 'Copy', action: () => copy(number, actions) },
          ].filter(Boolean),
          `phone number ${number}`,
        ),
    },
    raw,
  );
  return link;
}

/**
 * Click-to-call: the server rings the person's own phone, then `number`. When no phone of
 * theirs is registered (409) a `tel:` link offers the computer's phone app instead.
 */
export async function callNumber(ctx, number) {
  const answer = await ctx.api.send('POST', '/api/chat/call', { number });
  if (answer.status === 202) {
    ctx.say(`Your phone is ringing: pick it up to call ${answer.body.number}.`);
  } else if (answer.status === 409) {
    // Not registered: offer the computer's own phone app (a softphone) for the number.
    dialog({
      title: `Call ${number}`,
      body: h(
        'div.call-fallback',
        {},
        h('p', {}, ctx.api.errorText(answer)),
        h('a.btn.primary.tel-link', { href: `tel:${number}` }, `Call ${number} from this computer`),
      ),
      buttons: [{ label: 'Close', value: null }],
    });
  } else {
    ctx.say(ctx.api.errorText(answer), 'error');
  }
  return answer.status;
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
