// The Chat page: the conversation list (Recents or Archived, and + to start an SMS chat)
// beside the open conversation. Everything follows `/api/chat/events` as it happens (no
// polling): an event reads the list again, and the open conversation when it is the one
// the event is about. Something new while the page is hidden brings a notification and
// the sound, as Settings > Chat says.

import { h } from '../../shared/dom.js';
import { conversationList } from './chat/list.js';
import { conversationPane } from './chat/conversation.js';
import { startSms } from './chat/sms.js';
import { channelName, contactName } from './chat/channels.js';

export const chatPage = {
  id: 'chat',
  title: 'Chat',
  mount(el, ctx) {
    let archived = false;
    const list = conversationList(ctx, (id) => open(id));
    const pane = conversationPane(ctx, {
      changed: () => refresh(),
      closed: (id, why) => {
        list.select(null);
        if (why) ctx.say(why, 'error');
        refresh();
      },
      sms: (number) => sms(number),
    });
    const view = h(
      'select.text.view',
      { name: 'view', attrs: { 'aria-label': 'which conversations' } },
      h('option', { value: 'recents' }, 'Recents'),
      h('option', { value: 'archived' }, 'Archived'),
    );
    view.addEventListener('change', () => {
      archived = view.value === 'archived';
      refresh();
    });
    const newSms = h('button.btn.new-sms', { type: 'button', title: 'Start an SMS chat', dataset: { action: 'new-sms' }, onclick: () => sms('') }, '+ SMS');
    el.append(
      h(
        'div.chat',
        {},
        h('aside.chat-side', {}, h('div.chat-side-head', {}, h('h2', {}, 'Chats'), h('span.spacer'), newSms, view), list.el),
        pane.el,
      ),
    );

    async function open(id) {
      if (await pane.open(id)) list.select(id);
    }

    async function sms(number) {
      const id = await startSms(ctx, number);
      if (id == null) return;
      if (archived) {
        view.value = 'recents';
        archived = false;
      }
      await refresh();
      await open(id);
    }

    // One read of the list at a time; events arriving meanwhile ask for one more.
    let reading = null;
    let again = false;
    function refresh() {
      if (reading) {
        again = true;
        return reading;
      }
      reading = (async () => {
        do {
          again = false;
          const answer = await ctx.api.get(`/api/chat/conversations?archived=${archived ? 1 : 0}`);
          if (answer.status === 200) {
            list.set(answer.body || []);
            if (!archived) ctx.badge('chat', (answer.body || []).filter((c) => c.owner == null || c.unread).length);
          } else if (answer.status !== 401) {
            ctx.say(ctx.api.errorText(answer), 'error');
          }
        } while (again);
        reading = null;
      })();
      return reading;
    }

    function find(id) {
      return list.rows().find((c) => String(c.id) === String(id));
    }

    ctx.events.on('chat', async (event) => {
      const id = event.conversation_id;
      await refresh();
      if (id != null && String(pane.openId()) === String(id)) await pane.reload({ listToo: false });
      // Tell the person when they look elsewhere: a new offer, or the customer wrote.
      const c = find(id);
      if (!c) return;
      const incoming = event.kind === 'offered' || (event.kind === 'message' && c.last && c.last.direction === 'in');
      if (incoming) {
        ctx.notify.arrived({
          title: event.kind === 'offered' ? `A new chat (${channelName(c.channel)})` : `${contactName(c)} wrote`,
          body: (c.last && c.last.text) || '',
          tag: `chat-${id}`,
          onClick: () => {
            ctx.show('chat');
            open(id);
          },
        });
      }
    });

    // The stream ends when it falls behind and reopens by itself: whatever happened
    // meanwhile is read afresh on every (re)opening.
    ctx.events.onState((state) => {
      if (state !== 'live') return;
      refresh();
      if (pane.openId() != null) pane.reload({ listToo: false });
    });

    refresh();
    return {
      shown: () => {
        refresh();
        // Reading again marks what the open conversation shows as read (it is visible now).
        if (pane.openId() != null) pane.reload({ listToo: false });
      },
      signedIn: () => {
        refresh();
        if (pane.openId() != null) pane.reload();
      },
    };
  },
};
