// The people's web client (`/client/`): a person signs in as their extension, and gets the
// pages of pages/index.js in a nav (Chat, Settings this round; profile, queues and team
// later), the chat events pushed by /api/chat/events, and sign out.

import './client.css';
import * as api from '../shared/api.js';
import { eventStream } from '../shared/event_stream.js';
import { h, fill } from '../shared/dom.js';
import { signIn } from './login.js';
import * as settings from './settings.js';
import * as notify from './notify.js';
import { pages } from './pages/index.js';

const chatEvents = eventStream('/api/chat/events', ['chat']);
const el = {};
const mounted = new Map();
const badges = new Map();
let session = null;
let signingIn = null;
let booting = true;
let current = null;

function layout() {
  el.nav = h('nav.nav', { attrs: { 'aria-label': 'pages' } });
  el.user = h('span.user');
  el.live = h('span.status-live', {}, '');
  el.signOut = h('button.btn', { type: 'button', onclick: signOut }, 'Sign out');
  el.pages = h('main.pages');
  el.message = h('div.toast.hidden', { attrs: { role: 'status', 'aria-live': 'polite' } });
  document.body.append(
    h(
      'div.client',
      {},
      h('header.top', {}, h('span.brand', {}, 'Switchboard'), el.nav, h('span.spacer'), el.live, el.user, el.signOut),
      el.pages,
      el.message,
    ),
  );
  for (const page of pages) {
    el.nav.append(
      h('button.nav-tab', { type: 'button', dataset: { page: page.id }, onclick: () => show(page.id) }, page.title, h('span.badge')),
    );
  }
}

let toastTimer = null;
/** Shows a short message at the bottom of the page for a few seconds. */
function say(text, kind = 'info') {
  el.message.className = `toast ${kind}`;
  el.message.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.message.classList.add('hidden'), kind === 'error' ? 8000 : 4000);
}

/** What a page gets to work with. */
const ctx = {
  api: { get: api.get, send: api.send, errorText: api.errorText },
  events: { on: chatEvents.on, onState: chatEvents.onState },
  settings,
  notify,
  say,
  /** The signed-in person: `{extension, name}`. */
  me: () => ({ extension: session.extension, name: session.name }),
  show: (id, arg) => show(id, arg),
  /** Sets the number shown beside a page's name in the nav (0 hides it), and in the tab's title. */
  badge(id, count) {
    const tab = el.nav.querySelector(`.nav-tab[data-page="${id}"] .badge`);
    if (tab) tab.textContent = count ? String(count) : '';
    badges.set(id, count);
    const total = [...badges.values()].reduce((a, b) => a + b, 0);
    document.title = total ? `(${total}) Switchboard` : 'Switchboard';
  },
};

/** Mounts `page` once, hidden: every page hears its events from sign-in on. */
function mount(page) {
  if (!mounted.has(page.id)) {
    const host = h('section.page', { dataset: { page: page.id } });
    el.pages.append(host);
    let handle = null;
    try {
      handle = page.mount(host, ctx) || null;
    } catch (e) {
      console.error(`the ${page.id} page failed to start`, e);
      fill(host, h('p.error-text', {}, `This page failed to start: ${e.message}`));
    }
    host.classList.add('hidden');
    mounted.set(page.id, { host, handle });
  }
}

/** Shows page `id`; `arg` goes to its `shown(arg)`. */
function show(id, arg) {
  const page = pages.find((p) => p.id === id) || pages[0];
  mount(page);
  for (const [other, { host }] of mounted) host.classList.toggle('hidden', other !== page.id);
  for (const tab of el.nav.querySelectorAll('.nav-tab')) tab.classList.toggle('active', tab.dataset.page === page.id);
  current = page.id;
  if (location.hash !== '#' + page.id) history.replaceState(null, '', '#' + page.id);
  const { handle } = mounted.get(page.id);
  if (handle && handle.shown) handle.shown(arg);
}

chatEvents.onState((state) => {
  el.live.className = 'status-live ' + state;
  el.live.textContent = state === 'live' ? '● live' : state === 'connecting' ? '○ connecting…' : '○ not connected';
  el.live.title = state === 'live' ? 'new chats arrive as they happen' : 'reconnecting to the server';
});

function start(newSession) {
  session = newSession;
  api.setSession(session);
  el.user.textContent = session.name ? `${session.name} (${session.extension})` : `extension ${session.extension}`;
  chatEvents.connect();
  for (const page of pages) mount(page);
  const wanted = location.hash.slice(1);
  if (!current) show(pages.some((p) => p.id === wanted) ? wanted : pages[0].id);
  for (const { handle } of mounted.values()) if (handle && handle.signedIn) handle.signedIn();
}

function requireSignIn(reason) {
  if (booting || signingIn) return;
  chatEvents.close();
  signingIn = signIn(reason).then((s) => {
    signingIn = null;
    start(s);
  });
}

async function signOut() {
  chatEvents.close();
  await api.send('POST', '/api/logout');
  // A fresh page: nothing of this session stays in memory.
  location.reload();
}

api.whenSignedOut((reason) => requireSignIn(`Your session has ended (${reason || 'signed out'}); sign in again.`));

async function boot() {
  layout();
  const answer = await api.get('/api/session');
  booting = false;
  if (answer.status === 200 && answer.body.kind === 'person') {
    start(answer.body);
    return;
  }
  // An admin's session is for the editor; the client needs a person's.
  const reason =
    answer.status === 200
      ? 'You are signed in as an administrator; sign in with your extension to use the client.'
      : answer.status === 401
        ? ''
        : api.errorText(answer);
  signingIn = signIn(reason).then((s) => {
    signingIn = null;
    start(s);
  });
}

boot();
