// What the visitor sees, inside the widget's shadow root: the bubble, and a panel with the
// office's name, the conversation, a reply box — or, when no agent is there, the offline
// form. Every element a test or a site's support team may look for carries `data-sb`.
// Text goes in as text nodes only (`h`), so nothing an agent writes can become markup.
// A file an agent sent comes with a signed link on the widget's own server: an image is
// shown (an <img> of the link), anything else is a download link with its name and size.

import { h, fill } from '../shared/dom.js';
import { STYLE } from './style.js';

const MAX_CHARS = 2000;

/** The server the widget came from, which its file links (`/chat/files/…`) are on. Read
 * while the script runs: the one moment the browser names the script. */
const SERVER = new URL(document.currentScript?.src || '/chat/widget.js', location.href);

/** The images every browser shows; other image types (TIFF, HEIC) go as downloads. */
const SHOWN_IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp'];

/** The look of files on a line, beside `STYLE`: an image never wider than the line nor
 * taller than a third of the panel. */
const FILE_STYLE = `
.file { display: block; }
.file-image { display: block; max-width: 100%; max-height: 160px; border-radius: 6px; }
.file-link { color: inherit; text-decoration: underline; overflow-wrap: anywhere; }
.file-size { font-size: 12px; opacity: .75; }
`;

export function mountView(host, { title }) {
  const root = host.attachShadow({ mode: 'open' });
  adoptStyle(root);

  const office = h('span.office', { dataset: { sb: 'office' } }, title);
  const status = h('span.status', { dataset: { sb: 'status' } });
  const log = h('div.log', { dataset: { sb: 'log' }, attrs: { role: 'log', 'aria-live': 'polite' } });
  const error = h('div.error', { dataset: { sb: 'error' }, hidden: true, attrs: { role: 'alert' } });
  const ended = h('div.ended', { dataset: { sb: 'ended' }, hidden: true }, 'The chat has ended.');
  const input = h('textarea.input', {
    dataset: { sb: 'input' },
    rows: 2,
    maxLength: MAX_CHARS,
    placeholder: 'Write a message…',
    attrs: { 'aria-label': 'Your message' },
  });
  const send = h('button.send', { dataset: { sb: 'send' }, type: 'button' }, 'Send');
  const reply = h('div.reply', { dataset: { sb: 'reply' } }, input, send);

  const offName = h('input', { dataset: { sb: 'offline-name' }, maxLength: 200, autocomplete: 'name', required: true });
  const offEmail = h('input', { dataset: { sb: 'offline-email' }, type: 'email', maxLength: 200, autocomplete: 'email', required: true });
  const offText = h('textarea', { dataset: { sb: 'offline-text' }, rows: 4, maxLength: MAX_CHARS, required: true });
  const offSend = h('button.send', { dataset: { sb: 'offline-send' }, type: 'submit' }, 'Send');
  const offSent = h('p.note.sent', { dataset: { sb: 'offline-sent' }, hidden: true }, 'Thank you — we will get back to you by email.');
  const offline = h(
    'form.offline',
    { dataset: { sb: 'offline' }, hidden: true },
    h('p.note', {}, 'Nobody is here to chat right now. Leave a message and we will write back.'),
    h('label', {}, 'Name', offName),
    h('label', {}, 'Email', offEmail),
    h('label', {}, 'Message', offText),
    offSend,
  );

  const panel = h(
    'section.panel',
    { dataset: { sb: 'panel' }, hidden: true, attrs: { 'aria-label': 'Chat' } },
    h('header', {}, office, status),
    log,
    ended,
    offSent,
    error,
    offline,
    reply,
  );
  const bubble = h('button.bubble', { dataset: { sb: 'bubble' }, type: 'button', attrs: { 'aria-label': 'Chat with us' } }, chatIcon());
  root.append(h('div.frame', {}, panel, bubble));

  const shown = new Set();
  let chat = null;
  let online = true;
  let hasHistory = false;
  let finished = false;

  function show() {
    panel.hidden = false;
    chat?.open();
    (offline.hidden ? input : offName).focus();
  }

  function showError(words) {
    error.hidden = !words;
    fill(error, words || '');
  }

  function addLine(line) {
    if (shown.has(line.id)) return;
    shown.add(line.id);
    hasHistory = true;
    const who = line.from === 'agent' ? line.agent_name || 'Agent' : line.from === 'visitor' ? 'You' : '';
    const file = fileOf(line.attachment);
    // Never an empty bubble: a file that cannot be shown still says one was sent.
    const text = line.text || (file ? '' : 'A file was sent, but it cannot be shown here.');
    log.append(
      h(
        `div.line.${line.from}`,
        { dataset: { sb: 'message', from: line.from, id: String(line.id) } },
        who && h('span.who', { dataset: { sb: line.from === 'agent' ? 'agent-name' : 'author' } }, who),
        text && h('span.text', { dataset: { sb: 'text' } }, text),
        file,
      ),
    );
    log.scrollTop = log.scrollHeight;
  }

  function layout() {
    const useForm = !online && !hasHistory && !finished;
    offline.hidden = !useForm;
    log.hidden = useForm;
    reply.hidden = useForm || finished;
  }

  function submit() {
    const text = input.value;
    if (!text.trim() || !chat) return;
    // Sent at once, or as soon as the socket is (back) up.
    if (chat.message(text)) {
      input.value = '';
      showError('');
    } else {
      showError('This chat is closed.');
    }
  }

  send.addEventListener('click', submit);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  });
  offline.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!chat) return;
    chat.setProfile({ name: offName.value, email: offEmail.value });
    if (!chat.offline(offName.value, offEmail.value, offText.value)) showError('This chat is closed.');
  });
  bubble.addEventListener('click', () => (panel.hidden ? show() : (panel.hidden = true)));

  return {
    show,
    bind(c) {
      chat = c;
    },
    handle(event) {
      switch (event.kind) {
        case 'welcome':
          fill(office, event.office);
          // Set once the socket is ready: tests (and a site's own scripts) wait on it.
          panel.dataset.online = String(event.online);
          online = event.online;
          for (const line of event.history) addLine(line);
          showError('');
          layout();
          break;
        case 'status':
          // An agent logged in or out: the chat, or the offline form when nobody is there.
          panel.dataset.online = String(event.online);
          online = event.online;
          layout();
          break;
        case 'message':
          addLine(event);
          layout();
          break;
        case 'offline_received':
          // The form's message is now the conversation's first line; the reply box takes
          // over for anything the visitor wants to add.
          offSent.hidden = false;
          offText.value = '';
          hasHistory = true;
          layout();
          break;
        case 'ended':
          finished = true;
          ended.hidden = false;
          layout();
          break;
        case 'error':
          showError(event.error);
          break;
        case 'state':
          fill(status, event.connected ? '' : event.stopped ? '' : 'reconnecting…');
          break;
      }
    },
  };
}

/** A line's file (`{name, type, size, url}`) as an element: the image itself, or a
 * download link naming it; null when there is none or its link is not on our server (a
 * frame cannot send the visitor elsewhere). */
function fileOf(attachment) {
  if (!attachment || typeof attachment.url !== 'string') return null;
  let url;
  try {
    url = new URL(attachment.url, SERVER);
  } catch {
    return null;
  }
  if (url.origin !== SERVER.origin || !url.pathname.startsWith('/chat/files/')) return null;
  const name = String(attachment.name || 'file');
  if (SHOWN_IMAGES.includes(attachment.type)) {
    return h(
      'a.file',
      { href: url.href, target: '_blank', rel: 'noopener noreferrer', dataset: { sb: 'file' } },
      h('img.file-image', { src: url.href, alt: name, dataset: { sb: 'image' } }),
    );
  }
  return h(
    'a.file.file-link',
    { href: url.href, download: name, rel: 'noopener noreferrer', dataset: { sb: 'download' } },
    name,
    ' ',
    h('span.file-size', {}, `(${sizeWords(attachment.size)})`),
  );
}

/** `size` bytes as a person reads it: 820 bytes, 14 KB, 2.3 MB. */
function sizeWords(size) {
  const n = Number(size) || 0;
  if (n < 1000) return `${n} bytes`;
  if (n < 1000 * 1000) return `${Math.round(n / 1000)} KB`;
  return `${(n / 1000 / 1000).toFixed(1)} MB`;
}

/** A speech bubble, drawn (an emoji would depend on the visitor's fonts). */
function chatIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '28');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
  svg.append(path);
  return svg;
}

/** The widget's CSS, as a constructed sheet where the browser has them (a site's CSP
 * cannot refuse one), else as a `<style>` element. */
function adoptStyle(root) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE + FILE_STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(h('style', {}, STYLE + FILE_STYLE));
  }
}
