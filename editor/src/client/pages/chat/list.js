// The conversation list: Recents or Archived (`GET /api/chat/conversations?archived=`),
// each row with its channel, the customer, the last message and who has it (offered to
// you, yours, or a colleague's).

import { h, fill } from '../../../shared/dom.js';
import { channelBadge, contactName, timeText } from './channels.js';

/** Who holds a conversation, in words. */
export function holder(conversation, me) {
  if (conversation.owner == null) return 'offered';
  if (String(conversation.owner) === String(me)) return 'yours';
  return conversation.owner_name ? `${conversation.owner_name} (${conversation.owner})` : `extension ${conversation.owner}`;
}

/** The list; `open(id)` opens a conversation. */
export function conversationList(ctx, open) {
  const el = h('ul.conv-list', { attrs: { 'aria-label': 'conversations' } });
  let selected = null;
  let rows = [];

  function render() {
    const me = ctx.me().extension;
    if (!rows.length) {
      fill(el, h('li.conv-empty.muted', {}, 'No conversations here.'));
      return;
    }
    fill(
      el,
      rows.map((c) => {
        const who = holder(c, me);
        const last = c.last || {};
        return h(
          'li.conv' + (c.owner == null ? '.offered' : who === 'yours' ? '.mine' : '') + (String(c.id) === String(selected) ? '.selected' : ''),
          { dataset: { id: c.id, channel: c.channel } },
          h(
            'button.conv-open',
            { type: 'button', onclick: () => open(c.id) },
            h('div.conv-top', {}, channelBadge(c.channel), h('span.conv-name', {}, contactName(c)), h('span.spacer'), h('span.conv-time.muted', {}, timeText(last.at))),
            h(
              'div.conv-bottom',
              {},
              h('span.conv-last', {}, last.direction === 'out' ? 'You: ' : last.direction === 'system' ? '· ' : '', last.text || fileWords(last.attachment) || (last.at ? 'an attachment' : '')),
              h('span.spacer'),
              c.unread ? h('span.conv-unread', { title: `${c.unread} unread` }, String(c.unread)) : null,
              h('span.conv-holder' + (c.owner == null ? '.offered' : ''), { title: c.routed_to ? `routed to ${c.routed_to}` : '' }, who),
            ),
          ),
        );
      }),
    );
  }

  return {
    el,
    /** Shows `conversations` (the server's list). */
    set(conversations) {
      rows = conversations;
      render();
    },
    rows: () => rows,
    select(id) {
      selected = id;
      render();
    },
  };
}

/**
 * The files a message carried, named as the list shows them: an agent's file
 * `{name}`, or a customer's several (`[{name} | {note} | a provider's reference]`).
 */
function fileWords(attachment) {
  const items = Array.isArray(attachment) ? attachment : attachment ? [attachment] : [];
  const names = items.map((a) => a && a.name).filter(Boolean);
  if (names.length) return `file ${names.join(', ')}`;
  return items.length ? 'a file' : '';
}
