// The sign-in screen. It covers the page rather than replacing it, so an admin whose
// session ran out signs in again and finds their unsaved text where they left it.

import * as api from '../shared/api.js';
import { h } from '../shared/dom.js';

function retryWords(answer) {
  return answer.body && answer.body.error ? answer.body.error : 'too many wrong passwords; wait a minute and try again';
}

/** Shows the sign-in form; resolves with the session once the server accepts it. */
export function signIn(reason) {
  return new Promise((resolve) => {
    const user = h('input.text', { name: 'user', autocomplete: 'username', value: 'admin', required: true });
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
          const answer = await api.send('POST', '/api/login', { user: user.value.trim(), password: password.value });
          button.disabled = false;
          if (answer.status === 200) {
            screen.remove();
            resolve(answer.body);
            return;
          }
          password.value = '';
          password.focus();
          message.textContent =
            answer.status === 401
              ? 'Wrong user name or password.'
              : answer.status === 429
                ? retryWords(answer)
                : api.errorText(answer);
        },
      },
      h('h1', {}, 'Switchboard'),
      h('p.muted', {}, 'Sign in to edit the phone plan.'),
      h('label.field', {}, 'User', user),
      h('label.field', {}, 'Password', password),
      button,
      message,
      h('p.muted.small', {}, 'Set the password on the server with: switchboard admin set-password'),
    );
    const screen = h('div.login-screen', {}, form);
    document.body.append(screen);
    (user.value ? password : user).focus();
  });
}
