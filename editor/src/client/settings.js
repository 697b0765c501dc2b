// The person's own settings for this browser (Settings > Chat), kept in localStorage:
// they are about this screen and its speakers, so another browser has its own.

const KEY = 'switchboard.client.settings';

const DEFAULTS = {
  /** Show a browser notification when a chat arrives while the page is hidden. */
  chatNotifications: false,
  /** Play a sound then. */
  chatSound: true,
  /** Which sound (a name from notify.js's SOUNDS). */
  chatSoundName: 'chime',
};

const listeners = new Set();

/** Every setting, the stored ones over the defaults. */
export function load() {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(KEY) || '{}') || {};
  } catch {
    stored = {}; // A damaged entry is as good as none.
  }
  return { ...DEFAULTS, ...stored };
}

/** Stores `changes` over the current settings and tells whoever listens. */
export function save(changes) {
  const next = { ...load(), ...changes };
  localStorage.setItem(KEY, JSON.stringify(next));
  for (const fn of listeners) fn(next);
  return next;
}

/** Calls `fn(settings)` after every change. */
export function onChange(fn) {
  listeners.add(fn);
}
