// One conversation: its header (who, which channel, who holds it) with Take, Transfer,
// Dealt with and the ⋯ menu (Information, Archive/Unarchive, Delete, and for live chat
// End chat session and Block), the messages (the customer's, the agents', and system
// notes set apart), and the reply box with the templates.
//
// The reply box stays while the conversation is redrawn from the server, so an arriving
// message never takes away what the agent is typing; each conversation keeps its draft.

import { h, fill, dialog } from '../../../shared/dom.js';
import { channelBadge, contactName, isPhoneChannel, timeText } from './channels.js';
import { holder } from './list.js';
import { openMenu } from './menu.js';
import { callNumber, withPhoneLinks } from './phone_links.js';
import { templatesPanel } from './templates.js';
import { choosePerson } from './transfer.js';
import { showInformation } from './information.js';
import { attachmentView } from '../files/attachment.js';
import { fileAttacher } from '../files/attach.js';

/**
 * The conversation pane. `hooks.changed()` asks the page to read the list again;
 * `hooks.closed(why)` says the conversation is no longer ours to show; `hooks.sms(number)`
 * starts an SMS chat.
 */
export function conversationPane(ctx, hooks) {
  const drafts = new Map();
  let current = null; // {conversation, messages}
  let seq = 0;
  let shown = { id: null, count: 0 };

  const header = h('div.conv-header');
  const notice = h('div.conv-notice.hidden');
  const messages = h('div.messages', { attrs: { 'aria-live': 'polite', 'aria-label': 'messages' } });
  const reply = h('textarea.text.reply-text', { name: 'reply', rows: 3, placeholder: 'Write a reply… (Enter sends, Shift+Enter makes a new line)' });
  const sendButton = h('button.btn.primary.send', { type: 'button', onclick: () => send() }, 'Send');
  const templates = templatesPanel(ctx, insert);
  const templatesButton = h('button.btn.templates-toggle', { type: 'button', title: 'Quick-response templates', dataset: { action: 'templates' }, onclick: () => templates.toggle() }, '☰ Templates');
  const empty = h('div.conv-none', {}, h('p.muted', {}, 'Choose a conversation on the left.'));
  const body = h('div.conversation.hidden', {}, header, notice, messages);
  const el = h('div.conv-pane', {}, empty, body);
  // Files: the Attach button's chooser, or a file dropped anywhere on the conversation.
  const files = fileAttacher(ctx, {
    dropZone: body,
    open: () => !!current,
    upload: (file) => ctx.api.send('POST', path(`/files?name=${encodeURIComponent(file.name)}`), file),
    sent: () => reload(),
  });
  const replyBox = h('div.reply', {}, templates.el, h('div.reply-row', {}, templatesButton, files.button, files.input, reply, sendButton));
  body.append(replyBox);

  reply.addEventListener('input', () => {
    if (current) drafts.set(current.conversation.id, reply.value);
  });
  reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  /** Puts `text` into the reply where the cursor is (replacing a selection), to edit. */
  function insert(text) {
    const start = reply.selectionStart ?? reply.value.length;
    const end = reply.selectionEnd ?? reply.value.length;
    reply.value = reply.value.slice(0, start) + text + reply.value.slice(end);
    reply.focus();
    reply.selectionStart = reply.selectionEnd = start + text.length;
    reply.dispatchEvent(new Event('input'));
  }

  const path = (suffix = '') => `/api/chat/conversations/${current.conversation.id}${suffix}`;

  async function act(label, method, suffix, body) {
    const answer = await ctx.api.send(method, path(suffix), body);
    if (answer.status >= 200 && answer.status < 300) return answer;
    ctx.say(`${label}: ${ctx.api.errorText(answer)}`, 'error');
    return null;
  }

  async function confirm(title, text, label) {
    return (
      (await dialog({
        title,
        body: text,
        buttons: [
          { label: 'Cancel', value: null },
          { label, value: 'yes', kind: 'danger' },
        ],
      })) === 'yes'
    );
  }

  const actions = {
    async take() {
      if (await act('Take', 'POST', '/take')) {
        ctx.say('The conversation is yours now.');
        await reload();
      } else await reload();
    },
    async transfer() {
      const person = await choosePerson(ctx);
      if (!person || !current) return;
      if (await act('Transfer', 'POST', '/transfer', { to: String(person.extension) })) {
        const id = current.conversation.id;
        close();
        ctx.say(`Transferred to ${person.name || ''} (${person.extension}).`);
        hooks.closed(id);
      }
    },
    async dealtWith() {
      if (await act('Dealt with', 'POST', '/dealt-with')) {
        ctx.say('Marked as dealt with and archived; the customer’s next message goes to the queue again.');
        await reload();
      }
    },
    async archive() {
      if (await act('Archive', 'POST', '/archive')) await reload();
    },
    async unarchive() {
      if (await act('Unarchive', 'POST', '/unarchive')) await reload();
    },
    async remove() {
      if (!(await confirm('Delete this conversation?', 'It is removed with all its messages, for everyone. This cannot be undone.', 'Delete'))) return;
      if (await act('Delete', 'DELETE', '')) {
        const id = current.conversation.id;
        close();
        ctx.say('Conversation deleted.');
        hooks.closed(id);
      }
    },
    async endSession() {
      if (!(await confirm('End the chat session?', 'The visitor is told that the chat has ended; the conversation stays in your list.', 'End chat session'))) return;
      if (await act('End chat session', 'POST', '/end-session')) {
        ctx.say('The chat session has ended.');
        await reload();
      }
    },
    async block() {
      if (!(await confirm('Block this visitor?', 'Their address can no longer open the website chat.', 'Block'))) return;
      if (await act('Block', 'POST', '/block')) {
        ctx.say('The visitor is blocked.');
        await reload();
      }
    },
    information() {
      showInformation(ctx, current.conversation, { sms: hooks.sms });
    },
  };

  async function send() {
    if (!current) return;
    const text = reply.value.trim();
    if (!text) return;
    sendButton.disabled = true;
    const answer = await ctx.api.send('POST', path('/messages'), { text: reply.value });
    sendButton.disabled = false;
    if (answer.status >= 200 && answer.status < 300) {
      drafts.delete(current.conversation.id);
      reply.value = '';
      templates.close();
      await reload();
      reply.focus();
    } else {
      ctx.say(`Not sent: ${ctx.api.errorText(answer)}`, 'error');
      await reload();
    }
  }

  function renderHeader(c) {
    const me = ctx.me().extension;
    const who = holder(c, me);
    const mine = who === 'yours';
    const unowned = c.owner == null;
    const button = (action, label, onclick, kind = '') =>
      h('button.btn' + kind, { type: 'button', dataset: { action }, onclick }, label);
    const more = h('button.btn.more', { type: 'button', title: 'More actions', dataset: { action: 'menu' }, attrs: { 'aria-haspopup': 'menu' } }, '⋯');
    more.addEventListener('click', () =>
      openMenu(
        more,
        [
          { id: 'information', label: 'Information', action: actions.information },
          // Click-to-call, as a number in a message: the server rings the person's phone,
          // then the customer; `tel:` only when the server says no phone of theirs is
          // registered.
          isPhoneChannel(c.channel) ? { id: 'call', label: `Call ${c.customer}`, action: () => callNumber(ctx, c.customer) } : null,
          c.archived ? { id: 'unarchive', label: 'Unarchive', action: actions.unarchive } : { id: 'archive', label: 'Archive', action: actions.archive },
          c.channel === 'livechat' ? { id: 'end-session', label: 'End chat session', action: actions.endSession } : null,
          c.channel === 'livechat' ? { id: 'block', label: 'Block anonymous user', action: actions.block, danger: true } : null,
          { id: 'delete', label: 'Delete', action: actions.remove, danger: true },
        ].filter(Boolean),
        'conversation actions',
      ),
    );
    fill(
      header,
      h(
        'div.conv-title',
        {},
        channelBadge(c.channel),
        h('span.conv-contact', {}, contactName(c)),
        contactName(c) !== c.customer && c.channel !== 'livechat' ? h('span.muted.conv-address', {}, c.customer) : null,
        c.archived ? h('span.tag.archived', {}, 'archived') : null,
      ),
      h(
        'div.conv-sub.muted',
        {},
        unowned ? `Offered to you${c.routed_to ? ` through ${c.routed_to}` : ''}: take it, or answer to take it.` : mine ? 'Yours.' : `Held by ${who}.`,
        c.office_address ? ` Written to ${c.office_address}.` : '',
      ),
      h(
        'div.conv-actions',
        {},
        unowned ? button('take', 'Take', actions.take, '.primary') : null,
        button('transfer', 'Transfer', actions.transfer),
        mine ? button('dealt-with', '✓ Dealt with', actions.dealtWith) : null,
        more,
      ),
    );
  }

  function renderMessages(list) {
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    const links = { ctx, sms: hooks.sms, copied: (n) => ctx.say(`${n} copied.`) };
    fill(
      messages,
      list.length ? null : h('p.muted.center', {}, 'No messages yet.'),
      list.map((m) =>
        m.direction === 'system'
          ? h('div.msg.system', { dataset: { id: m.id } }, h('span.msg-text', {}, m.text), h('span.msg-time', {}, ' · ', timeText(m.at)))
          : h(
              `div.msg.${m.direction === 'out' ? 'out' : 'in'}`,
              { dataset: { id: m.id } },
              h('div.msg-meta', {}, m.direction === 'out' ? m.author_name || (m.author ? `extension ${m.author}` : 'Agent') : contactName(current.conversation), ' · ', timeText(m.at)),
              m.text ? h('div.msg-text', {}, withPhoneLinks(m.text, links)) : null,
              m.attachment ? attachmentView(m.attachment, (id) => `/api/chat/files/${id}`) : null,
              m.delivery ? deliveryLine(m) : null,
            ),
      ),
    );
    // Follow new messages, unless the agent scrolled up to read earlier ones.
    const id = current.conversation.id;
    if (shown.id !== id || atBottom) messages.scrollTop = messages.scrollHeight;
    shown = { id, count: list.length };
  }

  /**
   * How a reply through a provider stands: "sending…" (with the provider's words and the
   * next try while it fails for now), "sent", or "not delivered: <words>" with Send again.
   */
  function deliveryLine(m) {
    const d = m.delivery;
    const state = { dataset: { delivery: d.state } };
    if (d.state === 'sent') return h('div.msg-delivery', state, 'sent');
    if (d.state === 'failed') {
      return h(
        'div.msg-delivery.failed',
        state,
        `not delivered: ${d.last_error || 'the provider refused it'} `,
        h('button.btn.small', { type: 'button', dataset: { action: 'resend' }, onclick: () => resend(m.id) }, 'Send again'),
      );
    }
    const retry = d.last_error && d.next_attempt_at ? ` (${d.last_error}; trying again at ${timeText(d.next_attempt_at)})` : '';
    return h('div.msg-delivery', { ...state, attrs: retry ? { title: retry.slice(2, -1) } : {} }, `sending…${retry}`);
  }

  async function resend(messageId) {
    if (await act('Send again', 'POST', `/messages/${messageId}/resend`)) await reload();
  }

  /**
   * Reads the open conversation again; closes it when the server no longer shows it to us.
   * After an action the list is read again too (`listToo`); after an event the page has
   * read it already.
   */
  async function reload({ listToo = true } = {}) {
    if (!current) return;
    const id = current.conversation.id;
    const mine = ++seq;
    const answer = await ctx.api.get(`/api/chat/conversations/${id}`);
    if (mine !== seq || !current || current.conversation.id !== id) return;
    if (answer.status === 404) {
      close();
      hooks.closed(id, 'This conversation is no longer yours to see: a colleague took it, or it was transferred or deleted.');
      return;
    }
    if (answer.status !== 200) {
      ctx.say(ctx.api.errorText(answer), 'error');
      return;
    }
    current = answer.body;
    show();
    if (listToo) hooks.changed();
  }

  function show() {
    body.dataset.id = current.conversation.id;
    body.dataset.channel = current.conversation.channel;
    renderHeader(current.conversation);
    renderMessages(current.messages || []);
    markRead();
  }

  // Read marks: what the open conversation shows, while the page is visible, is read by
  // this person (their `unread` counts only what came after). Each mark is sent once.
  const marked = new Map(); // conversation id → newest message id marked read
  async function markRead() {
    // Open and visible: the tab is in front and the chat page (not Settings) is shown.
    if (!current || document.visibilityState !== 'visible' || body.offsetParent === null) return;
    const list = current.messages || [];
    if (!list.length) return;
    const id = current.conversation.id;
    const newest = list[list.length - 1].id;
    if ((marked.get(id) || 0) >= newest) return;
    marked.set(id, newest);
    const answer = await ctx.api.send('POST', `/api/chat/conversations/${id}/read`, { message_id: newest });
    if (answer.status === 204) {
      if (current && current.conversation.id === id && current.conversation.unread) hooks.changed();
    } else marked.delete(id);
  }
  document.addEventListener('visibilitychange', () => markRead());

  function close() {
    current = null;
    templates.close();
    body.classList.add('hidden');
    empty.classList.remove('hidden');
    delete body.dataset.id;
  }

  return {
    el,
    /** The open conversation's id, or null. */
    openId: () => (current ? current.conversation.id : null),
    /** Opens conversation `id`. */
    async open(id) {
      const answer = await ctx.api.get(`/api/chat/conversations/${id}`);
      if (answer.status !== 200) {
        ctx.say(answer.status === 404 ? 'That conversation is no longer yours to see.' : ctx.api.errorText(answer), 'error');
        return false;
      }
      const switching = !current || current.conversation.id !== answer.body.conversation.id;
      current = answer.body;
      if (switching) {
        reply.value = drafts.get(current.conversation.id) || '';
        templates.close();
      }
      empty.classList.add('hidden');
      body.classList.remove('hidden');
      show();
      messages.scrollTop = messages.scrollHeight;
      if (switching) reply.focus();
      return true;
    },
    reload,
    close,
  };
}
