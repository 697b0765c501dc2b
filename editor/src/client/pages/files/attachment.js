// A message's attachment as both chat pages show it: a file sent through Switchboard
// (`{id, name, type, size}`, read from the server) is an image shown in the message when
// the browser can show it, otherwise a download link with its name and size. A customer's
// media through a provider is stored as the provider's references, a list
// (`[{url, content_type}]` Twilio, `[{kind, url}]` Messenger, `[{id, content_type,
// filename}]` WhatsApp): each is shown by name, a link only when its address is https —
// it came from a webhook, so a `javascript:` or plain `http:` address never becomes one.
// The Chat page reads files from `/api/chat/files/{id}`, the Team page from
// `/api/team/files/{id}`: the caller says where.

import { h } from '../../../shared/dom.js';

/** The image types a browser shows; TIFF and HEIC are offered as downloads. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/bmp', 'image/webp']);

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
  if (Array.isArray(a)) return a.map(providerItem);
  if (a.id !== undefined) {
    const url = fileUrl(encodeURIComponent(a.id));
    const label = `${a.name} (${sizeText(a.size)})`;
    if (INLINE_IMAGES.has(a.type)) {
      return h(
        'div.msg-attachment',
        { dataset: { file: a.id } },
        h('a', { href: url, target: '_blank', rel: 'noopener', title: label }, h('img.msg-image', { src: url, alt: a.name })),
      );
    }
    return h('div.msg-attachment', { dataset: { file: a.id } }, 'File: ', h('a.link', { href: url, attrs: { download: a.name } }, a.name), h('span.muted', {}, ` ${sizeText(a.size)}`));
  }
  return providerItem(a);
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
