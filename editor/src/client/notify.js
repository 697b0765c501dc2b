// Telling the person something arrived while they look elsewhere: a browser notification
// and a short sound, as Settings > Chat says. The sounds are drawn with Web Audio (a few
// tones), so the bundle carries no audio files and the page's CSP needs no media source.

import * as settings from './settings.js';

/** The sounds to choose from: each a list of [frequency Hz, start s, length s]. */
export const SOUNDS = {
  chime: { label: 'Chime', notes: [[880, 0, 0.18], [1318.5, 0.16, 0.3]] },
  bell: { label: 'Bell', notes: [[1046.5, 0, 0.6]] },
  beeps: { label: 'Two beeps', notes: [[740, 0, 0.12], [740, 0.2, 0.12]] },
};

let audio = null;

// Browsers start audio only after the person has clicked or typed on the page; the first
// gesture makes the context, so a sound can play later while the page is hidden.
function wakeAudio() {
  if (!audio && window.AudioContext) audio = new AudioContext();
  if (audio && audio.state === 'suspended') audio.resume();
}
document.addEventListener('pointerdown', wakeAudio, { capture: true });
document.addEventListener('keydown', wakeAudio, { capture: true });

/** Plays the sound called `name` (now, whatever the settings say). */
export function playSound(name) {
  wakeAudio();
  if (!audio) return;
  const sound = SOUNDS[name] || SOUNDS.chime;
  const now = audio.currentTime + 0.02;
  for (const [freq, start, length] of sound.notes) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + start);
    gain.gain.exponentialRampToValueAtTime(0.25, now + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + start);
    osc.stop(now + start + length + 0.05);
  }
}

/** What the browser allows: 'granted', 'denied', 'default' or 'unsupported'. */
export function permission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/** Asks the browser for permission to show notifications; resolves to the answer. */
export async function askPermission() {
  if (!('Notification' in window)) return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/**
 * Tells the person about `{title, body, tag}` when the page is hidden: a notification
 * (clicking it brings the page back and calls `onClick`) and the sound, each if Settings
 * says so. Returns what was done, for tests: `{notified, sounded}`.
 */
export function arrived({ title, body, tag, onClick }) {
  const done = { notified: false, sounded: false };
  if (document.visibilityState !== 'hidden') return done;
  const s = settings.load();
  if (s.chatNotifications && permission() === 'granted') {
    const n = new Notification(title, { body, tag });
    n.onclick = () => {
      window.focus();
      n.close();
      if (onClick) onClick();
    };
    done.notified = true;
  }
  if (s.chatSound) {
    playSound(s.chatSoundName);
    done.sounded = true;
  }
  window.dispatchEvent(new CustomEvent('switchboard-notified', { detail: { title, body, ...done } }));
  return done;
}
