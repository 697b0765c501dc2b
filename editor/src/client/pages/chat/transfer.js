// Transfer: find a colleague by name or extension (`GET /api/people?q=`) and hand the
// conversation to them; it then disappears from the sender's list.

import { h, fill, dialog } from '../../../shared/dom.js';

/** Asks whom to transfer to; resolves to `{extension, name}` or null. */
export function choosePerson(ctx) {
  return new Promise((resolve) => {
    let chosen = null;
    let close = () => {};
    const search = h('input.text', { type: 'search', name: 'person', placeholder: 'Name or extension', autocomplete: 'off', spellcheck: false });
    const list = h('ul.people', { attrs: { role: 'listbox', 'aria-label': 'people' } });
    let seq = 0;
    async function find() {
      const mine = ++seq;
      const answer = await ctx.api.get('/api/people?q=' + encodeURIComponent(search.value.trim()));
      if (mine !== seq) return; // A later search answers instead.
      if (answer.status !== 200) {
        fill(list, h('li.error-text', {}, ctx.api.errorText(answer)));
        return;
      }
      const me = String(ctx.me().extension);
      const people = (answer.body || []).filter((p) => String(p.extension) !== me);
      fill(
        list,
        people.length
          ? people.map((p) =>
              h(
                'li',
                {},
                h(
                  'button.person',
                  {
                    type: 'button',
                    dataset: { extension: p.extension },
                    onclick: () => {
                      chosen = p;
                      close('chosen');
                    },
                  },
                  h('span.person-name', {}, p.name || ''),
                  h('span.person-ext', {}, String(p.extension)),
                ),
              ),
            )
          : h('li.muted', {}, 'Nobody matches.'),
      );
    }
    search.addEventListener('input', find);
    find();
    dialog({
      title: 'Transfer the chat to…',
      body: h('div.transfer', {}, search, list),
      buttons: [{ label: 'Cancel', value: 'close' }],
      onOpen: (finish) => (close = finish),
    }).then(() => resolve(chosen));
    search.focus();
  });
}
