// The server's news, pushed: one EventSource on a stream URL (`/api/events` for the
// editor, `/api/chat/events` for the client), fanned out to whoever listens. No polling:
// a broken stream is reopened after a pause, and one the server refused (the session
// ended) waits for the next sign-in.

import * as api from './api.js';

/**
 * A stream of server-sent events at `url` whose event names are `types` (listeners for
 * other names may be added before `connect`). Nothing opens until `connect()`.
 */
export function eventStream(url, types) {
  const listeners = new Map(types.map((t) => [t, new Set()]));
  const stateListeners = new Set();
  let source = null;
  let retry = null;

  function setState(state) {
    for (const fn of stateListeners) fn(state);
  }

  function dispatch(type, raw) {
    let data = {};
    try {
      data = raw ? JSON.parse(raw) : {};
    } catch {
      return;
    }
    for (const fn of listeners.get(type) || []) {
      try {
        fn(data);
      } catch (e) {
        console.error(`a listener for ${type} events failed`, e);
      }
    }
  }

  function close() {
    clearTimeout(retry);
    if (source) source.close();
    source = null;
  }

  function connect() {
    close();
    setState('connecting');
    source = new EventSource(url);
    source.onopen = () => setState('live');
    for (const type of listeners.keys()) {
      source.addEventListener(type, (e) => dispatch(type, e.data));
    }
    source.onerror = async () => {
      if (source && source.readyState === EventSource.CONNECTING) {
        setState('connecting'); // The browser reopens it by itself.
        return;
      }
      close();
      setState('closed');
      // Refused (not 200): if the session is gone, api's 401 brings the sign-in screen
      // and a sign-in calls connect(); otherwise try again in a while.
      const session = await api.get('/api/session');
      if (session.status === 200) retry = setTimeout(connect, 3000);
    };
  }

  return {
    /** Calls `fn(data)` for every event of `type`; returns a function that stops it. */
    on(type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(fn);
      return () => listeners.get(type).delete(fn);
    },
    /** Calls `fn(state)` with 'live', 'connecting' or 'closed' as the stream changes. */
    onState(fn) {
      stateListeners.add(fn);
    },
    /** Opens the stream (again). */
    connect,
    /** Closes the stream (on sign-out). */
    close,
  };
}
