// The sign-in screen: a person signs in as their extension with their web password. It
// covers the page rather than replacing it, so a reply being typed when the session ran
// out is still there after signing in again.

import * as api from '../shared/api.js';
import { h } from '../shared/dom.js';

/** Shows the sign-in form; resolves with the session once the server accepts it. */
export function signIn(reason) {
  return new Promise((resolve) => {
    const extension = h('input.text', {
      name: 'extension',
      autocomplete: 'username',
      inputMode: 'numeric',
      required: true,
      value: localStorage.getItem('switchboard.client.extension') || '',
    });
    const password = h('input.text', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const message = h('p.error-text.login-error', { attrs: { role: 'alert' } }, reason || '');
    const button = h('button.btn.primary', { type: 'submit' }, 'Sign in');
    const form = h(
      'form.login',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          button.disabled = true;
          message.textContent = '';
          const ext = extension.value.trim();
          const answer = await api.send('POST', '/api/people/login', { extension: ext, password: password.value });
          button.disabled = false;
          if (answer.status === 200) {
            localStorage.setItem('switchboard.client.extension', ext);
            screen.remove();
            resolve(answer.body);
            return;
          }
          password.value = '';
          password.focus();
          message.textContent =
            answer.status === 401
              ? 'Wrong extension or password.'
              : answer.status === 429 && !(answer.body && answer.body.error)
                ? 'Too many wrong passwords; wait a minute and try again.'
                : api.errorText(answer);
        },
      },
      h('h1', {}, 'Switchboard'),
      h('p.muted', {}, 'Sign in with your extension to answer chats.'),
      h('label.field', {}, 'Extension', extension),
      h('label.field', {}, 'Password', password),
      button,
      message,
      h('p.muted.small', {}, 'Your web password is your phone password unless your administrator set another. Forgot it? Ask them.'),
    );
    const screen = h('div.login-screen', {}, form);
    document.body.append(screen);
    (extension.value ? password : extension).focus();
  });
}
