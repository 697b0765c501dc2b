// The live-chat widget a website includes with one tag:
//
//   <script src="https://pbx.office.example/chat/widget.js" data-office="sales" async></script>
//
// It draws a chat bubble in the page's corner inside a shadow root (the site's CSS cannot
// reach in, ours cannot leak out), talks to the server over a WebSocket at /chat/ws on the
// script's own server, and keeps the visitor's token in the tab's sessionStorage so a
// reload or a dropped connection resumes the same conversation. No framework, no inline
// script or style attribute: it works under a site's strict Content Security Policy as
// long as the site lets the script load and connect (docs: widget).

import { connect } from './connection.js';
import { mountView } from './view.js';

const script = document.currentScript;

function start() {
  if (document.getElementById('switchboard-chat')) return; // the tag was included twice
  const src = new URL(script?.src || '/chat/widget.js', location.href);
  const socketUrl = new URL('/chat/ws', src);
  socketUrl.protocol = src.protocol === 'https:' ? 'wss:' : 'ws:';
  const office = script?.dataset.office || null;
  // A tag of its own, so the site's `div { … }` rules do not reach the host element.
  const host = document.createElement('switchboard-chat');
  host.id = 'switchboard-chat';
  document.body.append(host);
  const view = mountView(host, { title: office || 'Chat' });
  const chat = connect({
    url: socketUrl.href,
    office,
    language: navigator.language || null,
    onEvent: view.handle,
  });
  view.bind(chat);
  // A chat in progress (this tab talked before) reconnects at once so replies arrive;
  // otherwise the socket opens when the visitor first opens the bubble.
  if (chat.resuming()) {
    chat.open();
    view.show();
  }
}

if (document.body) start();
else document.addEventListener('DOMContentLoaded', start, { once: true });
