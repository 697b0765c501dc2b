// The people's client around the chat: an admin's session is not a person's (the client
// asks for an extension), nor a person's an admin's (the editor asks for an admin); a wrong password is refused in words; signed in, the nav has
// the pages; Settings > Chat is kept in the browser across a reload; starting an SMS chat
// refuses a number without +1 and 10 digits (the manual's rule) and creates nothing;
// a person changes their web password and signs in with the new one (and changes it
// back); sign out.

export default async function (t) {
  const { page } = t;

  // Signed in as the admin (the editor), the client still wants an extension.
  await t.signIn();
  await page.goto(t.baseUrl + '/client/');
  await page.locator('.login-error', { hasText: 'administrator' }).waitFor();

  // A wrong password, then the right one.
  await page.locator('.login input[name=extension]').fill('101');
  await page.locator('.login input[name=password]').fill('not the password');
  await page.locator('.login button[type=submit]').click();
  await page.locator('.login-error', { hasText: 'Wrong extension or password' }).waitFor();
  await t.signInPerson('101');
  const tabs = await page.locator('.nav-tab').evaluateAll((els) => els.map((e) => e.dataset.page));
  t.assert(tabs.join() === 'chat,team,settings', `the nav has the pages: ${tabs}`);

  // And the other way round: a person's session does not open the admin's editor.
  await page.goto(t.baseUrl + '/');
  await page.locator('.login-error', { hasText: 'the editor is for admins' }).waitFor();
  await page.goto(t.baseUrl + '/client/');
  await page.locator('.top .user', { hasText: '(101)' }).waitFor();

  // Settings > Chat, kept across a reload (and the session too: no sign-in screen).
  await page.locator('.nav-tab[data-page=settings]').click();
  await page.locator('input[name=chat-sound]').uncheck();
  await page.locator('select[name=chat-sound-name]').waitFor();
  t.assert(await page.locator('select[name=chat-sound-name]').isDisabled(), 'no sound to choose with the sound off');
  await page.reload();
  await page.locator('.top .user', { hasText: '(101)' }).waitFor();
  t.assert((await page.locator('.login-screen').count()) === 0, 'a live session skips the sign-in screen');
  t.assert(await page.locator('.nav-tab.active[data-page=settings]').count(), 'the page shown is kept in the address');
  t.assert(!(await page.locator('input[name=chat-sound]').isChecked()), 'the sound stays off after a reload');
  await page.locator('input[name=chat-sound]').check();
  await page.locator('select[name=chat-sound-name]').selectOption('bell');
  t.assert(
    (await page.evaluate(() => JSON.parse(localStorage.getItem('switchboard.client.settings')).chatSoundName)) === 'bell',
    'the chosen sound is stored',
  );

  // Starting an SMS chat: a number without +1 is refused before anything is sent.
  await page.locator('.nav-tab[data-page=chat]').click();
  const before = await page.evaluate(() => fetch('/api/chat/conversations?archived=0').then((r) => r.json()));
  await page.locator('[data-action=new-sms]').click();
  await page.locator('.sms-form input[name=to]').fill('2605550199');
  await page.locator('.sms-form textarea[name=text]').fill('Your crown is ready.');
  await page.locator('.overlay .btn.primary').click();
  await page.locator('.sms-problem', { hasText: '+1 and 10 digits' }).waitFor();
  await page.keyboard.press('Escape');
  const after = await page.evaluate(() => fetch('/api/chat/conversations?archived=0').then((r) => r.json()));
  t.assert(after.length === before.length, 'a refused number starts no conversation');

  // With +1 and 10 digits it starts, owned by the one who started it, and opens.
  await page.locator('[data-action=new-sms]').click();
  await page.locator('.sms-form input[name=to]').fill('+12605550199');
  await page.locator('.sms-form textarea[name=text]').fill('Your crown is ready: call us on 260-555-0100.');
  await page.locator('.overlay .btn.primary').click();
  const sms = page.locator('.conversation[data-channel=sms]');
  await sms.locator('.msg.out', { hasText: 'Your crown is ready' }).waitFor();
  await sms.locator('.conv-sub', { hasText: 'Yours' }).waitFor();
  await page.locator('.conv.mine[data-channel=sms]', { hasText: '+12605550199' }).waitFor();
  await sms.locator('.phone-link[data-number="2605550100"]').waitFor();

  // The web password, changed by its owner (102 here, so other tests keep 101's).
  await page.locator('.top .btn', { hasText: 'Sign out' }).click();
  await page.locator('.login-screen').waitFor();
  t.assert((await page.evaluate(() => fetch('/api/session').then((r) => r.status))) === 401, 'signed out on the server too');
  await page.locator('.login input[name=extension]').fill('102');
  await page.locator('.login input[name=password]').fill(t.personPassword);
  await page.locator('.login button[type=submit]').click();
  await page.locator('.top .user', { hasText: '(102)' }).waitFor();
  await page.locator('.nav-tab[data-page=settings]').click();
  const fresh = 'copper-lantern-meadow-42';
  await page.locator('input[name=current]').fill('a wrong one');
  await page.locator('input[name=new]').fill(fresh);
  await page.locator('input[name=again]').fill(fresh);
  await page.locator('.settings-password button[type=submit]').click();
  await page.locator('.form-message.error-text:not(:empty)').waitFor();
  t.assert((await page.locator('.login-screen').count()) === 0, 'a wrong current password does not sign the person out');
  await page.locator('input[name=current]').fill(t.personPassword);
  await page.locator('input[name=new]').fill(fresh);
  await page.locator('input[name=again]').fill(fresh);
  await page.locator('.settings-password button[type=submit]').click();
  await page.locator('.form-message.ok-text', { hasText: 'changed' }).waitFor();
  await page.locator('.top .btn', { hasText: 'Sign out' }).click();
  await page.locator('.login-screen').waitFor();
  await page.locator('.login input[name=extension]').fill('102');
  await page.locator('.login input[name=password]').fill(t.personPassword);
  await page.locator('.login button[type=submit]').click();
  await page.locator('.login-error', { hasText: 'Wrong extension or password' }).waitFor();
  await t.signInPerson('102', fresh);

  // And back, for the tests after this one.
  await page.locator('.nav-tab[data-page=settings]').click();
  await page.locator('input[name=current]').fill(fresh);
  await page.locator('input[name=new]').fill(t.personPassword);
  await page.locator('input[name=again]').fill(t.personPassword);
  await page.locator('.settings-password button[type=submit]').click();
  await page.locator('.form-message.ok-text', { hasText: 'changed' }).waitFor();
}
