// "Add as contact" (the manual's Information, and a phone number's menu): a form prefilled
// from the conversation — the customer's name, number or e-mail — saved to the office's
// shared contacts with `POST /api/contacts`. A refused save keeps what was typed and says
// what to fix.

import { h, dialog } from '../../../shared/dom.js';

/**
 * Asks for the contact, prefilled with `prefill` ({name, phones: [..], email, company,
 * note}); resolves to the saved contact, or null when cancelled.
 */
export async function addContact(ctx, prefill = {}) {
  const field = (name, label, value, type = 'text') => {
    const input = h('input.text', { name, type, value: value || '', autocomplete: 'off', spellcheck: false });
    return [input, h('label.field', {}, label, input)];
  };
  const [name, nameRow] = field('name', 'Name', prefill.name);
  const [phones, phonesRow] = field('phones', 'Phone numbers (comma between them)', (prefill.phones || []).join(', '), 'tel');
  const [email, emailRow] = field('email', 'Email', prefill.email, 'email');
  const [company, companyRow] = field('company', 'Company', prefill.company);
  const note = h('textarea.text', { name: 'note', rows: 2, value: prefill.note || '' });
  const problem = h('p.error-text.small.contact-problem', { attrs: { role: 'alert' } });
  const body = h('div.contact-form', {}, nameRow, phonesRow, emailRow, companyRow, h('label.field', {}, 'Note', note), problem);
  for (;;) {
    const shown = dialog({
      title: 'Add as contact',
      body,
      buttons: [
        { label: 'Cancel', value: null },
        { label: 'Save contact', value: 'save', kind: 'primary' },
      ],
    });
    name.focus();
    if ((await shown) !== 'save') return null;
    const contact = {
      name: name.value,
      phones: phones.value.split(',').map((p) => p.trim()).filter(Boolean),
      email: email.value || null,
      company: company.value || null,
      note: note.value || null,
    };
    const answer = await ctx.api.send('POST', '/api/contacts', contact);
    if (answer.status === 201) {
      ctx.say(`${answer.body.name} added to the contacts.`);
      return answer.body;
    }
    problem.textContent = ctx.api.errorText(answer);
  }
}
