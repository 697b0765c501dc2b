// The server's news, pushed: one EventSource on /api/events (plan, office, calls), fanned
// out to whoever listens. No polling: a broken stream is reopened after a pause, and one
// the server refused (the session ended) waits for the next sign-in.

import * as api from './api.js';

const TYPES = ['plan', 'office', 'calls'];
const listeners = new Map(TYPES.map((t) => [t, new Set()]));
const stateListeners = new Set();
let source = null;
let retry = null;

/** Calls `fn(data)` for every event of `type`; returns a function that stops it. */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

/** Calls `fn(state)` with 'live', 'connecting' or 'closed' as the stream changes. */
export function onState(fn) {
  stateListeners.add(fn);
}

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

/** Opens the stream (again). */
export function connect() {
  close();
  setState('connecting');
  source = new EventSource('/api/events');
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

/** Closes the stream (on sign-out). */
export function close() {
  clearTimeout(retry);
  if (source) source.close();
  source = null;
}
