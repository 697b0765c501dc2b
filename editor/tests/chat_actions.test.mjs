// The agent's other actions, each seen from both sides. Transfer: 101 hands an SMS chat
// to 102 (found by name), it leaves 101's list and appears in 102's, live. Archive and
// Unarchive move it between Recents and Archived; Delete asks first and removes it.
// Information shows the contact and the history, and Add as contact saves one it then shows. Markup in a message stays text. For a website chat, End chat session
// tells the visitor the chat has ended. A phone number in a message offers Call (the
// server rings 101's phone first; 101 has none registered here, so a tel: link is offered)
// and Send SMS (the SMS form, filled in).

import { logInToQueues } from './chat_agent.mjs';

export default async function (t) {
  const { page } = t;
  await t.signInPerson('101');
  const bruno = await t.otherPage();
  await t.signInPerson('102', t.personPassword, bruno);

  // An SMS chat of 101's, to pass on.
  const started = await page.evaluate(async () => {
    const session = await fetch('/api/session').then((r) => r.json());
    const r = await fetch('/api/chat/sms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf },
      body: JSON.stringify({ to: '+12605550123', text: 'Reminder: your appointment is on <b>Monday</b>. Questions? 260 555 0100' }),
    });
    return { status: r.status, body: await r.json() };
  });
  t.assert(started.status === 201 || started.status === 200, `the SMS chat started: ${JSON.stringify(started)}`);
  const row = page.locator('.conv.mine[data-channel=sms]', { hasText: '+12605550123' });
  await row.waitFor();
  const id = await row.getAttribute('data-id');
  await row.locator('.conv-open').click();
  const conversation = page.locator(`.conversation[data-id="${id}"]`);
  await conversation.locator('.msg.out', { hasText: 'Reminder' }).waitFor();
  // A message is text: markup in it is shown as written, never made into elements.
  t.assert((await conversation.locator('.msg.out b').count()) === 0, 'no element made from the message');
  t.assert((await conversation.locator('.msg.out .msg-text').textContent()).includes('<b>Monday</b>'), 'the markup shows as text');

  // The number in the message: Call asks the server to ring 101's phone first; with no
  // phone registered (409) it offers a tel: link. Send SMS opens the form with it.
  await conversation.locator('.phone-link[data-number="2605550100"]').click();
  await page.locator('.menu .menu-item[data-action=call]').click();
  const call = page.locator('.call-fallback a.tel-link');
  await call.waitFor();
  t.assert((await call.getAttribute('href')) === 'tel:2605550100', `Call falls back to a tel: link: ${await call.getAttribute('href')}`);
  t.assert((await page.locator('.call-fallback').textContent()).includes('your phone is not registered'), 'the 409 is said');
  await page.keyboard.press('Escape');
  await conversation.locator('.phone-link[data-number="2605550100"]').click();
  await page.locator('.menu .menu-item[data-action=sms]').click();
  t.assert((await page.locator('.sms-form input[name=to]').inputValue()) === '+12605550100', 'the SMS form has the number, with +1');
  await page.keyboard.press('Escape');

  // Information: the contact and this conversation in the history.
  await conversation.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=information]').click();
  await page.locator('.information .facts', { hasText: '+12605550123' }).waitFor();
  await page.locator(`.information .history tr[data-conversation="${id}"]`).waitFor();
  // Add as contact: the form has the number; once saved, Information shows the contact.
  await page.locator('.information [data-action=add-contact]').click();
  t.assert((await page.locator('.contact-form input[name=phones]').inputValue()) === '+12605550123', 'the contact form has the number');
  await page.locator('.contact-form input[name=name]').fill('Dana Whitfield');
  await page.locator('.contact-form input[name=company]').fill('Acme');
  await page.locator('.overlay .btn.primary', { hasText: 'Save contact' }).click();
  await page.locator('.contact-form').waitFor({ state: 'detached' });
  await conversation.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=information]').click();
  await page.locator('.information .saved-contact', { hasText: 'Dana Whitfield, Acme' }).waitFor();
  t.assert((await page.locator('.information [data-action=add-contact]').count()) === 0, 'no Add as contact for a saved one');
  await page.keyboard.press('Escape');

  // Archive, then Unarchive.
  await conversation.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=archive]').click();
  await page.locator(`.conv[data-id="${id}"]`).waitFor({ state: 'detached' });
  await conversation.locator('.tag.archived').waitFor();
  await conversation.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=unarchive]').click();
  await page.locator(`.conv[data-id="${id}"]`).waitFor();

  // Transfer to Bruno, found by name: gone for 101, there for 102, without a reload.
  await conversation.locator('[data-action=transfer]').click();
  await page.locator('.transfer input').fill('brun');
  await page.locator('.person[data-extension="102"]').click();
  await page.locator(`.conv[data-id="${id}"]`).waitFor({ state: 'detached' });
  await page.locator('.conv-none').waitFor();
  const arrived = bruno.locator(`.conv.mine[data-id="${id}"]`);
  await arrived.waitFor();

  // Delete, as Bruno: asked first; Cancel keeps it, Delete removes it.
  await arrived.locator('.conv-open').click();
  const his = bruno.locator(`.conversation[data-id="${id}"]`);
  await his.locator('[data-action=menu]').click();
  await bruno.locator('.menu .menu-item[data-action=delete]').click();
  await bruno.locator('.overlay .btn', { hasText: 'Cancel' }).click();
  t.assert(await arrived.count(), 'Cancel keeps the conversation');
  await his.locator('[data-action=menu]').click();
  await bruno.locator('.menu .menu-item[data-action=delete]').click();
  await bruno.locator('.overlay .btn.danger', { hasText: 'Delete' }).click();
  await arrived.waitFor({ state: 'detached' });
  const gone = await bruno.evaluate((n) => fetch(`/api/chat/conversations/${n}`).then((r) => r.status), id);
  t.assert(gone === 404, `the deleted conversation is gone: ${gone}`);

  // A website visitor (101 logged in to the queue, so the chat is online): End chat
  // session tells them.
  await logInToQueues(t, '101');
  const site = await t.sitePage();
  await site.locator('[data-sb=bubble]').click();
  await site.locator('[data-sb=panel][data-online]').waitFor();
  await site.locator('[data-sb=input]').fill('Are you open on Sunday?');
  await site.locator('[data-sb=send]').click();
  const visitor = page.locator('.conv', { hasText: 'open on Sunday' });
  await visitor.waitFor();
  await visitor.locator('.conv-open').click();
  const chat = page.locator('.conversation[data-channel=livechat]');
  await chat.locator('.msg.in', { hasText: 'open on Sunday' }).waitFor();
  await chat.locator('[data-action=take]').click();
  await chat.locator('.conv-sub', { hasText: 'Yours' }).waitFor();
  await chat.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=end-session]').click();
  await page.locator('.overlay .btn.danger', { hasText: 'End chat session' }).click();
  await site.locator('[data-sb=ended]').waitFor();
  // (Block is tried at the end of chat_flow: it shuts this machine's address out of the
  // live chat for the rest of the run.)
}
