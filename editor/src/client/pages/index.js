// The client's pages, in the nav's order. Each is `{id, title, mount(el, ctx)}`: the shell
// mounts it into its own element the first time it is shown and hands it `ctx` (the API,
// the chat events and the stream's state, settings, notifications, `me()`, `show(id)`, `say(text)`,
// `badge(id, n)`). `mount` may return `{shown(arg), signedIn()}` to hear when the page is
// shown again or the person signed in anew. Profile, queue and team pages drop in here.

import './pages.css';
import { chatPage } from './chat.js';
import { settingsPage } from './settings.js';
import { teamPage } from './team.js';

export const pages = [chatPage, teamPage, settingsPage];
