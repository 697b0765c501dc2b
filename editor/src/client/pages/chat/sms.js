// Starting an SMS chat (the manual: "type +1 followed by the full number … you MUST
// prepend the area code + phone number with +1"): `POST /api/chat/sms {to, text}` makes a
// conversation owned by the person who started it.

import { h, dialog } from '../../../shared/dom.js';

/** What an SMS chat's number must look like: +1 and ten digits. */
export const SMS_NUMBER = /^\+1\d{10}$/;

/** The manual's rule, said when a number does not follow it. */
export const SMS_RULE = 'Type +1 followed by the 10-digit number (area code and number), for example +12602058900.';

/** A number written loosely ("(260) 205-8900", "1 260 205 8900") as +1NXXNXXXXXX when it can be. */
export function smsNumber(text) {
  const digits = text.replace(/\D/g, '');
  if (digits.length === 10 && !text.trim().startsWith('+')) return '+1' + digits;
  if (digits.length === 11 && digits.startsWith('1')) return '+' + digits;
  return text.replace(/[\s().-]/g, '');
}

/**
 * Asks for the number and the first message and starts the chat; resolves to the new
 * conversation's id, or null when cancelled.
 */
export async function startSms(ctx, prefill = '') {
  const to = h('input.text', { name: 'to', type: 'tel', value: prefill ? smsNumber(prefill) : '+1', autocomplete: 'off', spellcheck: false });
  const text = h('textarea.text', { name: 'text', rows: 3, placeholder: 'The first message' });
  const problem = h('p.error-text.small.sms-problem', { attrs: { role: 'alert' } });
  const body = h(
    'div.sms-form',
    {},
    h('label.field', {}, 'To (+1 and 10 digits)', to),
    h('label.field', {}, 'Message', text),
    problem,
    h('p.muted.small', {}, SMS_RULE),
  );
  for (;;) {
    const choice = await dialogKeeping(body, to);
    if (choice !== 'start') return null;
    const number = to.value.trim();
    if (!SMS_NUMBER.test(number)) {
      problem.textContent = `“${number}” is not +1 and 10 digits: an SMS cannot go there.`;
      continue;
    }
    if (!text.value.trim()) {
      problem.textContent = 'Write the first message: an SMS chat starts with one.';
      continue;
    }
    const answer = await ctx.api.send('POST', '/api/chat/sms', { to: number, text: text.value });
    if (answer.status >= 200 && answer.status < 300) {
      const b = answer.body || {};
      return (b.conversation && b.conversation.id) || b.conversation_id || b.id || null;
    }
    problem.textContent = ctx.api.errorText(answer);
  }
}

// The dialog again with the same fields (and what was typed), after a refused try.
function dialogKeeping(body, focus) {
  const shown = dialog({
    title: 'Start an SMS chat',
    body,
    buttons: [
      { label: 'Cancel', value: null },
      { label: 'Start chat', value: 'start', kind: 'primary' },
    ],
  });
  focus.focus();
  return shown;
}
