// Plays the prompts a simulated call's steps play, one after another, through one
// `<audio>` element: the WAVs the server serves to the session
// (`/api/prompts/<lang>/<name>`, names may be nested like `digits/4`).

import { h } from "./dom.js";
import { pathSegments } from "./request.js";

export class PromptPlayer {
  constructor() {
    this.queue = [];
    this.playing = null;
    this.enabled = true;
    this.audio = h("audio", { class: "sb-audio", preload: "auto" });
    this.nowPlaying = h("span", { class: "sb-now-playing", "aria-live": "polite" });
    const toggle = h("input", { type: "checkbox", checked: true, class: "sb-play-prompts" });
    toggle.addEventListener("change", () => {
      this.enabled = toggle.checked;
      if (!this.enabled) this.stop();
    });
    this.el = h(
      "div",
      { class: "sb-player" },
      h("label", {}, toggle, " Play prompts"),
      " ",
      this.nowPlaying,
      this.audio,
    );
    // A prompt the server cannot give (not in the catalog for this language) is
    // skipped, not waited for.
    this.audio.addEventListener("ended", () => this.next());
    this.audio.addEventListener("error", () => this.next());
  }

  // Queues `names` (in order) in `lang`; starts playing when idle.
  enqueue(names, lang = "en") {
    if (!this.enabled) return;
    for (const name of names) this.queue.push({ name, lang });
    if (!this.playing) this.next();
  }

  // Stops the prompt playing and forgets the queue (hang-up, a new call).
  stop() {
    this.queue = [];
    this.playing = null;
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.nowPlaying.textContent = "";
  }

  next() {
    const item = this.queue.shift();
    this.playing = item || null;
    if (!item) {
      this.nowPlaying.textContent = "";
      return;
    }
    this.nowPlaying.textContent = `Playing ${item.name}`;
    this.nowPlaying.dataset.prompt = item.name;
    this.audio.src = `/api/prompts/${encodeURIComponent(item.lang)}/${pathSegments(item.name)}`;
    // Browsers refuse to play before the page has been interacted with; every call to
    // here follows a click, but a refusal must not stall the queue either.
    const started = this.audio.play();
    if (started && typeof started.catch === "function") started.catch(() => this.next());
  }
}

// The prompt names a simulator step plays: `prompt` is a name, or (for a step that
// plays several, like `vm-you-have digits/0 vm-messages`) a list or space-separated
// names. Recordings (`recording:NAME`) are the office's, not prompts.
export function stepPrompts(step) {
  const p = step.prompts ?? step.prompt;
  if (!p) return [];
  const names = Array.isArray(p) ? p : String(p).split(/\s+/);
  return names.filter((n) => n && !n.includes(":"));
}
