// Information: the contact (who, on which channel, their address; Email, Call, Send SMS
// where the channel has them; the office's saved contact with their number or e-mail, or
// Add as contact) and the interaction history with every agent
// (`GET /api/chat/conversations/{id}/information`). Call rings the person's own phone,
// then the customer (`POST /api/chat/call`; `tel:` when their phone is not registered).

import { h, dialog } from '../../../shared/dom.js';
import { callNumber } from './phone_links.js';
import { addContact } from './contact_form.js';
import { channelBadge, channelName, contactName, isPhoneChannel, timeText } from './channels.js';

export async function showInformation(ctx, conversation, actions) {
  const answer = await ctx.api.get(`/api/chat/conversations/${conversation.id}/information`);
  if (answer.status !== 200) {
    ctx.say(ctx.api.errorText(answer), 'error');
    return;
  }
  const { contact = {}, history = [], saved_contact: saved = null } = answer.body || {};
  const rows = [
    ['Name', contact.name || '—'],
    ['Channel', channelBadge(contact.channel || conversation.channel)],
    [contact.channel === 'livechat' ? 'Visitor' : 'Address', contact.customer || conversation.customer],
  ];
  // A website visitor's e-mail is what they typed in the offline form: nobody checked it.
  const livechat = (contact.channel || conversation.channel) === 'livechat';
  if (contact.email) rows.push([livechat ? 'Email (not verified)' : 'Email', h('a.link', { href: `mailto:${contact.email}` }, contact.email)]);
  if (contact.address) rows.push(['Network address', contact.address]);
  if (saved) {
    const about = [saved.name, saved.company].filter(Boolean).join(', ');
    rows.push(['Saved contact', h('span.saved-contact', {}, about, saved.phones && saved.phones.length ? ` · ${saved.phones.join(', ')}` : '', saved.note ? ` · ${saved.note}` : '')]);
  }
  const phone = isPhoneChannel(contact.channel || conversation.channel) ? contact.customer || conversation.customer : null;
  let close = () => {};
  const buttons = h(
    'div.row',
    {},
    contact.email ? h('a.btn', { href: `mailto:${contact.email}` }, 'Email') : null,
    phone ? h('button.btn', { type: 'button', dataset: { action: 'call' }, onclick: () => callNumber(ctx, phone) }, 'Call') : null,
    phone && /^\+1\d{10}$/.test(phone)
      ? h('button.btn', { type: 'button', onclick: () => {
          close('sms');
          actions.sms(phone);
        } }, 'Send SMS')
      : null,
    saved
      ? null
      : h('button.btn', { type: 'button', dataset: { action: 'add-contact' }, onclick: () => {
          close('contact');
          addContact(ctx, { name: contact.name || '', phones: phone ? [phone] : [], email: contact.email || '' });
        } }, 'Add as contact'),
  );
  const body = h(
    'div.information',
    {},
    h('table.facts', {}, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))))),
    buttons,
    h('h3', {}, 'Interaction history'),
    history.length
      ? h(
          'table.history',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Channel'), h('th', {}, 'Routed to'), h('th', {}, 'Agents'), h('th', {}, 'Dealt with'))),
          h(
            'tbody',
            {},
            history.map((item) =>
              h(
                'tr',
                { dataset: { conversation: item.conversation_id } },
                h('td', {}, timeText(item.at)),
                h('td', {}, channelName(item.channel)),
                h('td', {}, item.routed_to || ''),
                h('td', {}, (item.agents || []).map((a) => (typeof a === 'object' ? a.name || a.extension : a)).join(', ')),
                h('td', {}, item.dealt_with_at ? timeText(item.dealt_with_at) : '—'),
              ),
            ),
          ),
        )
      : h('p.muted', {}, 'No earlier conversations.'),
  );
  await dialog({ title: `Information: ${contact.name || contactName(conversation)}`, body, buttons: [{ label: 'Close', value: 'close', kind: 'primary' }], wide: true, onOpen: (finish) => (close = finish) });
}
