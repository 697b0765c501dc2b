// The Team page's left side: the person's groups and direct threads (`GET
// /api/team/threads`, each with its last message and unread count), then the colleagues
// (`GET /api/people?q=`) with a search; choosing a colleague opens (or starts) the direct
// thread with them.

import { h, fill } from '../../../shared/dom.js';
import { timeText } from '../chat/channels.js';

/** The list; `hooks.open(id)` opens a thread, `hooks.startWith(extension)` a direct one. */
export function threadList(ctx, hooks) {
  const threadsEl = h('ul.team-threads', { attrs: { 'aria-label': 'team threads' } });
  const search = h('input.text.team-search', { type: 'search', name: 'colleague', placeholder: 'Search colleagues…', attrs: { 'aria-label': 'search colleagues' } });
  const peopleEl = h('ul.team-people', { attrs: { 'aria-label': 'colleagues' } });
  const el = h('div.team-side', {}, threadsEl, h('div.team-people-head', {}, h('h3', {}, 'Colleagues'), search), peopleEl);
  let rows = [];
  let selected = null;

  function render() {
    if (!rows.length) {
      fill(threadsEl, h('li.team-empty.muted', {}, 'No threads yet: choose a colleague below.'));
      return;
    }
    fill(
      threadsEl,
      rows.map((t) => {
        const last = t.last || {};
        return h(
          'li.team-thread' + (String(t.id) === String(selected) ? '.selected' : '') + (t.unread ? '.unread' : ''),
          { dataset: { id: t.id, kind: t.kind, with: t.with } },
          h(
            'button.team-open',
            { type: 'button', onclick: () => hooks.open(t.id) },
            h(
              'div.team-top',
              {},
              h('span.tag', {}, t.kind === 'group' ? `queue ${t.with}` : t.with),
              h('span.team-name', {}, t.name),
              h('span.spacer'),
              h('span.team-time.muted', {}, timeText(last.at)),
            ),
            h(
              'div.team-bottom',
              {},
              h('span.team-last', {}, lastText(last, ctx)),
              h('span.spacer'),
              t.unread ? h('span.team-unread', { title: `${t.unread} unread` }, String(t.unread)) : null,
            ),
          ),
        );
      }),
    );
  }

  let asked = 0;
  async function people() {
    const mine = ++asked;
    const answer = await ctx.api.get(`/api/people?q=${encodeURIComponent(search.value.trim())}`);
    if (mine !== asked || answer.status !== 200) return;
    const me = String(ctx.me().extension);
    fill(
      peopleEl,
      (answer.body || [])
        .filter((p) => String(p.extension) !== me)
        .map((p) =>
          h(
            'li',
            {},
            h(
              'button.team-person',
              { type: 'button', dataset: { extension: p.extension }, onclick: () => hooks.startWith(p.extension) },
              h('span.team-person-name', {}, p.name),
              h('span.team-person-ext', {}, p.extension),
            ),
          ),
        ),
      answer.body && answer.body.length ? null : h('li.muted', {}, 'Nobody matches.'),
    );
  }
  search.addEventListener('input', people);
  people();

  return {
    el,
    set(threads) {
      rows = threads;
      render();
    },
    rows: () => rows,
    select(id) {
      selected = id;
      render();
    },
  };
}

/** The list's line for a thread's newest message: who and what (a file by its name). */
export function lastText(last, ctx) {
  const what = last.text || (last.attachment && last.attachment.name ? `file ${last.attachment.name}` : '');
  if (!what) return 'No messages yet';
  return `${String(last.author) === String(ctx.me().extension) ? 'You' : last.author_name}: ${what}`;
}
