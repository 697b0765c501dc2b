// Settings: Chat (browser notifications, the notification sound) for this browser, and the
// person's web password (`PUT /api/me/password`, which leaves the phone's password alone).

import { h, fill } from '../../shared/dom.js';

export const settingsPage = {
  id: 'settings',
  title: 'Settings',
  mount(el, ctx) {
    fill(el, h('div.settings', {}, chatSection(ctx), passwordSection(ctx)));
  },
};

function chatSection(ctx) {
  const { settings, notify } = ctx;
  const s = settings.load();
  const permissionLine = h('p.muted.small.permission');
  const notifications = h('input', { type: 'checkbox', name: 'chat-notifications', checked: s.chatNotifications });
  const sound = h('input', { type: 'checkbox', name: 'chat-sound', checked: s.chatSound });
  const choice = h(
    'select.text',
    { name: 'chat-sound-name' },
    Object.entries(notify.SOUNDS).map(([value, { label }]) => h('option', { value, selected: value === s.chatSoundName }, label)),
  );
  const play = h('button.btn.small', { type: 'button', onclick: () => notify.playSound(choice.value) }, '▶ Play');

  function showPermission() {
    const p = notify.permission();
    permissionLine.textContent =
      p === 'granted'
        ? 'This browser lets the client show notifications.'
        : p === 'denied'
          ? 'This browser blocks notifications from this site; allow them in the browser’s site settings, then turn this on again.'
          : p === 'unsupported'
            ? 'This browser cannot show notifications.'
            : 'Turning this on asks the browser for permission.';
  }

  notifications.addEventListener('change', async () => {
    if (notifications.checked) {
      const answer = notify.permission() === 'granted' ? 'granted' : await notify.askPermission();
      if (answer !== 'granted') {
        notifications.checked = false;
        settings.save({ chatNotifications: false });
        showPermission();
        ctx.say('Notifications stay off: the browser did not allow them.', 'error');
        return;
      }
    }
    settings.save({ chatNotifications: notifications.checked });
    showPermission();
  });
  sound.addEventListener('change', () => {
    settings.save({ chatSound: sound.checked });
    choice.disabled = !sound.checked;
  });
  choice.disabled = !s.chatSound;
  choice.addEventListener('change', () => {
    settings.save({ chatSoundName: choice.value });
    notify.playSound(choice.value);
  });
  showPermission();

  return h(
    'section.card.settings-chat',
    {},
    h('h2', {}, 'Chat'),
    h('p.muted', {}, 'When a chat is offered to you or a customer writes while this page is in the background:'),
    h('label.check', {}, notifications, ' Show a browser notification'),
    permissionLine,
    h('label.check', {}, sound, ' Play a sound'),
    h('div.row', {}, choice, play),
    h('p.muted.small', {}, 'These settings are kept in this browser.'),
  );
}

function passwordSection(ctx) {
  const current = h('input.text', { type: 'password', name: 'current', autocomplete: 'current-password', required: true });
  const fresh = h('input.text', { type: 'password', name: 'new', autocomplete: 'new-password', required: true });
  const again = h('input.text', { type: 'password', name: 'again', autocomplete: 'new-password', required: true });
  const message = h('p.form-message', { attrs: { role: 'status' } });
  const button = h('button.btn.primary', { type: 'submit' }, 'Change password');
  const form = h(
    'form.card.settings-password',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        message.className = 'form-message error-text';
        if (fresh.value !== again.value) {
          message.textContent = 'The new password and its repetition differ; type them again.';
          return;
        }
        button.disabled = true;
        const answer = await ctx.api.send('PUT', '/api/me/password', { current: current.value, new: fresh.value });
        button.disabled = false;
        if (answer.status >= 200 && answer.status < 300) {
          form.reset();
          message.className = 'form-message ok-text';
          message.textContent = 'Your web password is changed. Your phone keeps its own.';
          return;
        }
        message.textContent =
          (answer.status === 401 || answer.status === 403) && !(answer.body && answer.body.error)
            ? 'The current password is wrong.'
            : ctx.api.errorText(answer);
      },
    },
    h('h2', {}, 'Web password'),
    // For password managers: whose password this is.
    h('input.hidden', { type: 'text', name: 'username', autocomplete: 'username', value: String(ctx.me().extension), readOnly: true, tabIndex: -1 }),
    h('p.muted', {}, 'The password you sign in to this client with. Changing it here leaves your phone’s password as it is.'),
    h('label.field', {}, 'Current password', current),
    h('label.field', {}, 'New password', fresh),
    h('label.field', {}, 'New password again', again),
    h('div.row', {}, button),
    message,
  );
  return form;
}
