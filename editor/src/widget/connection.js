// The widget's socket: hello on every (re)connect with the visitor's token, backoff when
// the server cannot be reached, and the frames handed to the view as events.

/** The tab's visitor token; sessionStorage so it lasts for this tab's visit only. */
const TOKEN_KEY = 'switchboard-chat-visitor';
/** The first wait before reconnecting, doubled up to MAX_BACKOFF_MS after each failure. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled (a sandboxed frame): the token lives in memory
  }
}

/**
 * Opens (on `open()`) and keeps a socket to `url`. `onEvent({kind, ...})` hears:
 * `welcome` (the frame), `status` (`online` changed), `message` (a line), `offline_received`, `ended`, `error`
 * ({code, error}), `state` ({connected}).
 */
export function connect({ url, office, language, onEvent }) {
  const store = storage();
  let token = store?.getItem(TOKEN_KEY) || null;
  let socket = null;
  let backoff = FIRST_BACKOFF_MS;
  let retry = null;
  let stopped = false;
  let profile = {};
  let welcomed = false;
  /** Frames written before the socket was ready; sent after the next welcome. */
  const waiting = [];

  function setToken(value) {
    token = value;
    try {
      if (value) store?.setItem(TOKEN_KEY, value);
      else store?.removeItem(TOKEN_KEY);
    } catch {
      // A full or refused storage: the token stays in memory for this page.
    }
  }

  function open() {
    if (stopped || socket) return;
    clearTimeout(retry);
    retry = null;
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'hello', visitor: token, office, language, ...profile }));
    });
    ws.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.type === 'welcome') {
        backoff = FIRST_BACKOFF_MS;
        setToken(frame.visitor);
        welcomed = true;
        onEvent({ kind: 'state', connected: true });
      }
      if (frame.type === 'ended') {
        // The session is over: a reload starts a new chat rather than resuming this one.
        stopped = true;
        setToken(null);
      }
      if (frame.type === 'error' && frame.code === 'blocked') stopped = true;
      if (frame.type === 'error' && frame.code === 'too_many_connections') backoff = MAX_BACKOFF_MS;
      onEvent({ kind: frame.type, ...frame });
      if (frame.type === 'welcome') while (waiting.length) ws.send(JSON.stringify(waiting.shift()));
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = null;
      welcomed = false;
      onEvent({ kind: 'state', connected: false, stopped });
      if (stopped) return;
      // A little jitter, so the visitors of a restarted server do not all come back at once.
      const wait = backoff * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      retry = setTimeout(open, wait);
    });
  }

  /** Sends now when the socket is ready, else once it is (and opens it); false only
   * when the chat is over (ended, blocked). */
  function send(frame) {
    if (stopped) return false;
    if (socket && welcomed && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    else {
      waiting.push(frame);
      open();
    }
    return true;
  }

  return {
    open,
    resuming: () => Boolean(token),
    isOpen: () => Boolean(socket && socket.readyState === WebSocket.OPEN),
    /** Name and email the visitor gave, sent with every hello from now on. */
    setProfile(p) {
      profile = p;
    },
    message: (text) => send({ type: 'message', text }),
    offline: (name, email, text) => send({ type: 'offline', name, email, text }),
  };
}
