// The Team page: chatting with colleagues. On the left the person's groups (one per queue
// they work in or manage) and direct threads, each with its unread count, and the
// colleagues from /api/people with a search to start a direct thread; on the right the open
// thread with its messages and a reply box. `/api/team/events` tells of each new message as
// it is written (no polling); one arriving while the page is hidden brings a notification
// and the sound, as Settings > Chat says.

import './team/team.css';
import { h } from '../../shared/dom.js';
import { eventStream } from '../../shared/event_stream.js';
import { threadList } from './team/threads.js';
import { threadPane } from './team/thread.js';

export const teamPage = {
  id: 'team',
  title: 'Team',
  mount(el, ctx) {
    const events = eventStream('/api/team/events', ['team']);
    // Read marks only for what the person can see: this page shown in a visible tab.
    const onScreen = () => !el.classList.contains('hidden') && document.visibilityState === 'visible';
    const list = threadList(ctx, { open: (id) => open(id), startWith: (ext) => startWith(ext) });
    const pane = threadPane(ctx, { read: () => refresh() });
    el.append(h('div.team', {}, h('aside.team-aside', {}, h('div.team-aside-head', {}, h('h2', {}, 'Team')), list.el), pane.el));

    async function open(id) {
      const thread = list.rows().find((t) => String(t.id) === String(id));
      list.select(id);
      await pane.open(thread || { id });
    }

    async function startWith(extension) {
      const answer = await ctx.api.send('POST', '/api/team/direct', { with: extension });
      if (answer.status !== 200) {
        ctx.say(ctx.api.errorText(answer), 'error');
        return;
      }
      await refresh();
      await open(answer.body.id);
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
          const answer = await ctx.api.get('/api/team/threads');
          if (answer.status === 200) {
            list.set(answer.body || []);
            ctx.badge('team', (answer.body || []).reduce((n, t) => n + (t.unread || 0), 0));
          } else if (answer.status !== 401) {
            ctx.say(ctx.api.errorText(answer), 'error');
          }
        } while (again);
        reading = null;
      })();
      return reading;
    }

    events.on('team', async (event) => {
      const openHere = String(pane.openId()) === String(event.thread_id);
      if (openHere) await pane.reload({ markRead: onScreen() });
      await refresh();
      const thread = list.rows().find((t) => String(t.id) === String(event.thread_id));
      if (!thread || !thread.last) return;
      ctx.notify.arrived({
        title: thread.kind === 'group' ? `${thread.last.author_name} in ${thread.name}` : `${thread.last.author_name} wrote`,
        body: thread.last.text || (thread.last.attachment ? `sent ${thread.last.attachment.name || 'a file'}` : ''),
        tag: `team-${thread.id}`,
        onClick: () => {
          ctx.show('team');
          open(thread.id);
        },
      });
    });
    // Whatever happened while the stream was down is read afresh on every (re)opening.
    events.onState((state) => {
      if (state !== 'live') return;
      refresh();
      if (pane.openId() != null) pane.reload({ markRead: false });
    });

    events.connect();
    refresh();
    return {
      shown: () => {
        refresh();
        if (pane.openId() != null) pane.reload({ markRead: true });
      },
      signedIn: () => {
        events.connect();
        refresh();
      },
    };
  },
};
