// One team thread: who it is with, its messages (the newest at the bottom) and the reply
// box. Opening or reading it while it is on screen marks it read (`POST …/read`). The reply
// box keeps its draft per thread while messages arrive. Files go as on the Chat page (the
// Attach button, dropping on the thread, or pasting an image into the reply box) and show
// as there: images in the message, other files as a download with name and size.

import { h, fill } from '../../../shared/dom.js';
import { timeText } from '../chat/channels.js';
import { attachmentView } from '../files/attachment.js';
import { fileAttacher } from '../files/attach.js';

/** The pane; `hooks.read()` asks the page to read the list again (its counts changed). */
export function threadPane(ctx, hooks) {
  const drafts = new Map();
  let thread = null;
  let seq = 0;
  const title = h('div.team-title', {}, h('span.team-contact'));
  const sub = h('div.team-sub.muted');
  const messages = h('div.team-messages', { attrs: { 'aria-live': 'polite', 'aria-label': 'messages' } });
  const reply = h('textarea.text.team-reply-text', { name: 'team-reply', rows: 2, placeholder: 'Write to your colleague… (Enter sends, Shift+Enter makes a new line)' });
  const sendButton = h('button.btn.primary.team-send', { type: 'button', onclick: () => send() }, 'Send');
  const body = h('div.team-conversation.hidden', {}, h('div.team-header', {}, title, sub), messages);
  const files = fileAttacher(ctx, {
    dropZone: body,
    pasteInto: reply,
    open: () => !!thread,
    upload: (file) => ctx.api.send('POST', `/api/team/threads/${thread.id}/files?name=${encodeURIComponent(file.name)}`, file),
    sent: async () => {
      await reload({ markRead: false });
      hooks.read();
    },
  });
  body.append(h('div.team-reply', {}, h('div.team-reply-row', {}, files.button, files.input, reply, sendButton)));
  const empty = h('div.team-none', {}, h('p.muted', {}, 'Choose a thread or a colleague on the left.'));
  const el = h('div.team-pane', {}, empty, body);

  reply.addEventListener('input', () => {
    if (thread) drafts.set(thread.id, reply.value);
  });
  reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  function render(list) {
    const me = String(ctx.me().extension);
    fill(
      messages,
      list.length ? null : h('p.muted.team-center', {}, 'No messages yet.'),
      list.map((m) =>
        h(
          'div.team-msg' + (String(m.author) === me ? '.out' : '.in'),
          { dataset: { id: m.id, author: m.author } },
          h('div.team-msg-meta', {}, `${String(m.author) === me ? 'You' : m.author_name} · ${timeText(m.at)}`),
          m.text ? h('div.team-msg-text', {}, m.text) : null,
          m.attachment ? attachmentView(m.attachment, (id) => `/api/team/files/${id}`) : null,
        ),
      ),
    );
    messages.scrollTop = messages.scrollHeight;
  }

  async function reload({ markRead }) {
    if (!thread) return;
    const mine = ++seq;
    const answer = await ctx.api.get(`/api/team/threads/${thread.id}/messages`);
    if (mine !== seq) return;
    if (answer.status !== 200) {
      // Not (or no longer) a member: the thread is gone for this person.
      if (answer.status === 404) close(ctx.api.errorText(answer));
      else if (answer.status !== 401) ctx.say(ctx.api.errorText(answer), 'error');
      return;
    }
    render(answer.body || []);
    if (markRead) {
      await ctx.api.send('POST', `/api/team/threads/${thread.id}/read`, {});
      hooks.read();
    }
  }

  function close(why) {
    thread = null;
    body.classList.add('hidden');
    empty.classList.remove('hidden');
    if (why) ctx.say(why, 'error');
  }

  async function send() {
    if (!thread) return;
    const text = reply.value;
    if (!text.trim()) return;
    sendButton.disabled = true;
    const answer = await ctx.api.send('POST', `/api/team/threads/${thread.id}/messages`, { text });
    sendButton.disabled = false;
    if (answer.status !== 201) {
      ctx.say(ctx.api.errorText(answer), 'error');
      return;
    }
    reply.value = '';
    drafts.delete(thread.id);
    await reload({ markRead: false });
    hooks.read();
    reply.focus();
  }

  return {
    el,
    openId: () => (thread ? thread.id : null),
    /** Opens `t` (a listed thread, or `{id}`). */
    async open(t) {
      thread = t;
      title.firstChild.textContent = t.name || `thread ${t.id}`;
      sub.textContent = t.kind === 'group' ? `queue ${t.with} · ${(t.members || []).length} members` : t.with ? `extension ${t.with}` : '';
      empty.classList.add('hidden');
      body.classList.remove('hidden');
      body.dataset.thread = t.id;
      reply.value = drafts.get(t.id) || '';
      fill(messages);
      await reload({ markRead: true });
      reply.focus();
    },
    reload,
  };
}
