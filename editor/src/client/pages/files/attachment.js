// A message's attachment as both chat pages show it: a file stored by Switchboard
// (`{id, name, type, size}`, read from the server) is an image shown in the message when
// the browser can show it, otherwise a download link with its name and size. A customer's
// media through a provider arrives as a list of the provider's references (`[{url,
// content_type}]` Twilio, `[{kind, url}]` Messenger, `[{id, content_type, filename}]`
// WhatsApp); the server fetches each and replaces it with the stored file's
// `{id, name, type, size}` — shown exactly like an agent's file — or with `{note}`, the
// words saying why it was not kept (too large, a type the office does not accept). A
// reference not fetched yet is shown by name, a link only when its address is https —
// it came from a webhook, so a `javascript:` or plain `http:` address never becomes one.
// The Chat page reads files from `/api/chat/files/{id}`, the Team page from
// `/api/team/files/{id}`: the caller says where.

import { h } from '../../../shared/dom.js';

/** The image types a browser shows; TIFF and HEIC are offered as downloads. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/bmp', 'image/webp']);

/**
 * `audio` or `video` when the browser says it may play `type` (Chromium plays OGG, MP3,
 * M4A and MP4, not AMR or every 3GP), else null: what it cannot play is a download.
 */
function playerFor(type) {
  const tag = typeof type === 'string' ? type.split('/')[0] : '';
  if (tag !== 'audio' && tag !== 'video') return null;
  return document.createElement(tag).canPlayType(type) === '' ? null : tag;
}

/** "812 bytes", "12 KB", "1.4 MB". */
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The view of attachment `a`; `fileUrl(id)` is where a Switchboard file's bytes are read
 * (`/api/chat/files/7`).
 */
export function attachmentView(a, fileUrl) {
  if (Array.isArray(a)) return a.map((item) => itemView(item, fileUrl));
  if (a.id !== undefined) return fileView(a, fileUrl);
  return providerItem(a);
}

/** One item of a customer's list: a fetched file, a note, or a reference still fetched. */
function itemView(item, fileUrl) {
  // A stored file's id is a number; a WhatsApp reference's media id is text.
  if (item && typeof item.id === 'number' && typeof item.name === 'string') return fileView(item, fileUrl);
  if (item && typeof item.note === 'string') return h('div.msg-attachment.msg-note', { dataset: { note: 'true' } }, item.note);
  return providerItem(item);
}

/** A file stored by Switchboard: an image in the message, or a download link. */
function fileView(a, fileUrl) {
  const url = fileUrl(encodeURIComponent(a.id));
  const label = `${a.name} (${sizeText(a.size)})`;
  if (INLINE_IMAGES.has(a.type)) {
    return h(
      'div.msg-attachment',
      { dataset: { file: a.id } },
      h('a', { href: url, target: '_blank', rel: 'noopener', title: label }, h('img.msg-image', { src: url, alt: a.name })),
    );
  }
  const download = [h('a.link', { href: url, attrs: { download: a.name } }, a.name), h('span.muted', {}, ` ${sizeText(a.size)}`)];
  const player = playerFor(a.type);
  if (player) {
    // `preload=metadata`: the length shows without fetching the whole file up front.
    const media = h(`${player}.msg-${player}`, { src: url, controls: true, preload: 'metadata', title: label });
    return h('div.msg-attachment', { dataset: { file: a.id } }, media, h('div', {}, ...download));
  }
  return h('div.msg-attachment', { dataset: { file: a.id } }, 'File: ', ...download);
}

/** One provider reference: its name, a link when its address is https. */
function providerItem(item) {
  const name = (item && (item.name || item.filename || item.kind)) || 'attachment';
  const url = httpsUrl(item && item.url);
  return h(
    'div.msg-attachment',
    { dataset: { provider: 'true' } },
    'File: ',
    url ? h('a.link', { href: url, target: '_blank', rel: 'noopener noreferrer' }, name) : name,
    item && item.content_type ? h('span.muted', {}, ` (${item.content_type})`) : null,
    h('span.muted', {}, ' — being fetched'),
  );
}

/** `raw` when it is an https address, else null. */
export function httpsUrl(raw) {
  if (typeof raw !== 'string') return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
