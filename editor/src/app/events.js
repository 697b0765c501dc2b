// The editor's news, pushed: one EventSource on /api/events (plan, office, calls), fanned
// out to whoever listens (shared/event_stream.js does the work).

import { eventStream } from '../shared/event_stream.js';

const stream = eventStream('/api/events', ['plan', 'office', 'calls']);

/** Calls `fn(data)` for every event of `type`; returns a function that stops it. */
export const on = stream.on;
/** Calls `fn(state)` with 'live', 'connecting' or 'closed' as the stream changes. */
export const onState = stream.onState;
/** Opens the stream (again). */
export const connect = stream.connect;
/** Closes the stream (on sign-out). */
export const close = stream.close;
