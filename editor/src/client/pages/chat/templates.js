// Quick-response templates beside the reply box (the manual: "use the search bar,
// categories tabs or language drop-down … click on a template and the text will populate
// your reply panel for you to edit or send"). Read from `GET /api/chat/templates`;
// managers write them through the API.

import { h, fill } from '../../../shared/dom.js';

/** The templates panel; `insert(text)` puts a template's text into the reply. */
export function templatesPanel(ctx, insert) {
  let category = '';
  let everything = [];
  let seq = 0;
  const tabs = h('div.template-tabs', { attrs: { role: 'tablist', 'aria-label': 'template categories' } });
  const language = h('select.text.template-language', { name: 'language', attrs: { 'aria-label': 'language' } });
  const search = h('input.text.template-search', { type: 'search', name: 'q', placeholder: 'Search templates', autocomplete: 'off' });
  const list = h('ul.template-list');
  const el = h('div.templates.hidden', {}, h('div.template-bar', {}, tabs, h('span.spacer'), language, search), list);

  function renderTabs() {
    const categories = [...new Set(everything.map((t) => t.category).filter(Boolean))].sort();
    if (category && !categories.includes(category)) category = '';
    fill(
      tabs,
      [''].concat(categories).map((c) =>
        h(
          'button.template-tab' + (c === category ? '.active' : ''),
          { type: 'button', attrs: { role: 'tab', 'aria-selected': String(c === category) }, dataset: { category: c }, onclick: () => { category = c; renderTabs(); filter(); } },
          c || 'All',
        ),
      ),
    );
    const languages = [...new Set(everything.map((t) => t.language).filter(Boolean))].sort();
    const chosen = language.value;
    fill(language, h('option', { value: '' }, 'All languages'), languages.map((l) => h('option', { value: l, selected: l === chosen }, l)));
  }

  async function filter() {
    const mine = ++seq;
    const params = new URLSearchParams();
    if (category) params.set('category', category);
    if (language.value) params.set('language', language.value);
    if (search.value.trim()) params.set('q', search.value.trim());
    const query = params.toString();
    const answer = await ctx.api.get('/api/chat/templates' + (query ? '?' + query : ''));
    if (mine !== seq) return;
    if (answer.status !== 200) {
      fill(list, h('li.error-text', {}, ctx.api.errorText(answer)));
      return;
    }
    const found = answer.body || [];
    fill(
      list,
      found.length
        ? found.map((t) =>
            h(
              'li',
              {},
              h(
                'button.template',
                { type: 'button', dataset: { id: t.id }, title: 'Put this text into the reply, to edit before sending', onclick: () => insert(t.text) },
                h('span.template-title', {}, t.title || t.category || 'Template'),
                t.language ? h('span.template-lang', {}, t.language) : null,
                h('span.template-text', {}, t.text),
              ),
            ),
          )
        : h('li.muted', {}, everything.length ? 'No template matches.' : 'No templates yet; a manager of your queue adds them.'),
    );
  }

  language.addEventListener('change', filter);
  search.addEventListener('input', filter);

  return {
    el,
    /** Opens or closes the panel; opening reads the templates afresh. */
    async toggle() {
      const opening = el.classList.contains('hidden');
      el.classList.toggle('hidden', !opening);
      if (!opening) return false;
      const answer = await ctx.api.get('/api/chat/templates');
      everything = answer.status === 200 ? answer.body || [] : [];
      renderTabs();
      await filter();
      search.focus();
      return true;
    },
    close() {
      el.classList.add('hidden');
    },
  };
}
