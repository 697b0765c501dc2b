// A website visitor and an agent, end to end, in two browsers: 101 logs in to their queues
// from their phone (*62), so the widget on the test website (another origin) is online;
// the visitor writes in it; the chat is offered to agent 101 (queue 800, Sales, where this
// run's plan sends live chats) in the people's client, who takes it, puts a
// template into the reply, edits it and sends it; the visitor sees the reply. Dealt with
// posts a system note and archives it; the visitor's next message is offered to the queue
// again (unowned), and — the page being hidden and notifications on — brings a browser
// notification and the sound. Block, at the end, refuses the visitor's address. No polling: every change arrives by /api/chat/events and
// the widget's socket. Takes docs/chat-agent.png and docs/chat-widget.png.

import { logInToQueues } from './chat_agent.mjs';

const FIRST = 'Hello! Can I book a cleaning on Friday? Call me on +1 260 555 0142.';
const TEMPLATE = 'We have free slots on Friday at 9:00 and 14:30. Which one suits you?';
const EDIT = ' Alice at Example Dental';
const AGAIN = 'One more question: do you take new patients?';

export default async function (t) {
  const { page } = t;
  await t.context.grantPermissions(['notifications'], { origin: t.baseUrl });
  await t.signInPerson('101');
  await page.locator('.nav-tab.active[data-page=chat]').waitFor();
  await t.until(() => document.querySelector('.status-live.live'), 'the chat events to be live');

  // 101 logs in to their queues as agents do, from the desk phone: *62.
  await logInToQueues(t, '101');
  const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  t.assert(
    (me.queues || []).some((q) => String(q.queue) === '800' && q.logged_in),
    `101 is logged in to queue 800: ${JSON.stringify(me.queues)}`,
  );

  // Templates, as a manager of queue 800 writes them (through the API: the page to edit
  // them comes with the queue pages): one to use, one in German to filter away.
  const made = await page.evaluate(async (texts) => {
    const session = await fetch('/api/session').then((r) => r.json());
    const post = (body) =>
      fetch('/api/chat/templates', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    return [
      await post({ category: 'Appointments', language: 'en', title: 'Friday slots', text: texts[0] }),
      await post({ category: 'Appointments', language: 'de', title: 'Termine Freitag', text: 'Am Freitag haben wir um 9:00 Uhr frei.' }),
      await post({ category: 'Greetings', language: 'en', title: 'Hello', text: 'Hello, how can we help?' }),
    ];
  }, [TEMPLATE]);
  t.assert(made.every((s) => s === 201 || s === 200), `101 (a manager of queue 800) made the templates: ${made}`);

  // Settings > Chat: notifications on (the browser grants it), the sound stays on.
  await page.locator('.nav-tab[data-page=settings]').click();
  await page.locator('input[name=chat-notifications]').check();
  await t.until(() => JSON.parse(localStorage.getItem('switchboard.client.settings') || '{}').chatNotifications === true, 'the notifications setting to be stored');
  t.assert(await page.locator('input[name=chat-sound]').isChecked(), 'the sound is on by default');
  await page.locator('.nav-tab[data-page=chat]').click();

  // The visitor writes on the website.
  const site = await t.sitePage();
  await site.locator('[data-sb=bubble]').click();
  await site.locator('[data-sb=office]', { hasText: 'Example Dental' }).waitFor();
  // The widget has its socket and the office is online (101 is logged in to the queue).
  await site.locator('[data-sb=panel][data-online=true]').waitFor();
  await site.locator('[data-sb=input]').fill(FIRST);
  await site.locator('[data-sb=send]').click();
  await site.locator('[data-sb=message][data-from=visitor]', { hasText: 'book a cleaning' }).waitFor();

  // The agent sees it offered, opens it: the number in it is a link.
  const offered = page.locator('.conv.offered', { hasText: 'book a cleaning' });
  await offered.waitFor();
  t.assert((await offered.locator('.channel[data-channel=livechat]').count()) === 1, 'the list shows the live-chat channel');
  const id = await offered.getAttribute('data-id');
  await offered.locator('.conv-open').click();
  const conversation = page.locator(`.conversation[data-id="${id}"]`);
  await conversation.locator('.msg.in', { hasText: 'book a cleaning' }).waitFor();
  await conversation.locator('.phone-link[data-number="+12605550142"]').waitFor();
  await conversation.locator('.conv-sub', { hasText: 'Offered to you' }).waitFor();

  // Take: it is 101's alone.
  await conversation.locator('[data-action=take]').click();
  await conversation.locator('.conv-sub', { hasText: 'Yours' }).waitFor();
  await page.locator(`.conv.mine[data-id="${id}"]`).waitFor();
  t.assert((await conversation.locator('[data-action=take]').count()) === 0, 'no Take button on one of your own');

  // A template: the category tab and the language narrow the list; a click puts the text
  // in the reply, where the agent edits it before sending.
  await conversation.locator('[data-action=templates]').click();
  await conversation.locator('.template-tab[data-category=Appointments]').click();
  await conversation.locator('.template', { hasText: 'Termine Freitag' }).waitFor();
  await conversation.locator('.template-language').selectOption('en');
  await t.until(
    () => document.querySelector('.template') && ![...document.querySelectorAll('.template')].some((e) => e.textContent.includes('Termine')),
    'the German template to be filtered out',
  );
  t.assert((await conversation.locator('.template', { hasText: 'Hello, how can' }).count()) === 0, 'the Greetings template is not in the Appointments tab');
  await conversation.locator('.template', { hasText: 'Friday slots' }).click();
  const reply = conversation.locator('.reply-text');
  t.assert((await reply.inputValue()) === TEMPLATE, `the template is in the reply: ${await reply.inputValue()}`);
  await reply.press('End');
  await reply.pressSequentially(EDIT);
  await conversation.locator('.send').click();
  await conversation.locator('.msg.out', { hasText: TEMPLATE + EDIT }).waitFor();
  t.assert((await reply.inputValue()) === '', 'the reply box is empty after sending');

  // The visitor sees the reply, with who wrote it.
  await site.locator('[data-sb=message][data-from=agent]', { hasText: TEMPLATE + EDIT }).waitFor();
  await site.locator('[data-sb=input]').fill('Great, 9:00 please.');
  await site.locator('[data-sb=send]').click();
  await conversation.locator('.msg.in', { hasText: '9:00 please' }).waitFor();
  // The pictures for the manual, without the passing "yours now" message.
  await page.locator('.toast').waitFor({ state: 'hidden' });
  await t.screenshot('chat-widget', site);
  await t.screenshot('chat-agent');

  // Dealt with: a system note, and it leaves Recents (archived).
  const notes = await conversation.locator('.msg.system').count();
  await conversation.locator('[data-action=dealt-with]').click();
  await t.until((n) => document.querySelectorAll('.conversation .msg.system').length > n, 'the Dealt with note', notes);
  await page.locator(`.conv[data-id="${id}"]`).waitFor({ state: 'detached' });
  await page.locator('select.view').selectOption('archived');
  await page.locator(`.conv[data-id="${id}"]`).waitFor();
  await page.locator('select.view').selectOption('recents');
  await page.locator(`.conv[data-id="${id}"]`).waitFor({ state: 'detached' });

  // The page goes to the background; the visitor writes again: offered to the queue
  // again (no owner), with a notification and the sound.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    window.notified = [];
    window.addEventListener('switchboard-notified', (e) => window.notified.push(e.detail));
  });
  await site.locator('[data-sb=input]').fill(AGAIN);
  await site.locator('[data-sb=send]').click();
  const again = page.locator('.conv.offered', { hasText: 'new patients' });
  await again.waitFor();
  t.assert((await again.locator('.conv-holder.offered').count()) === 1, 'the list says it is offered');
  const notified = await t.until(() => window.notified.length && window.notified[0], 'a notification of the new message');
  t.assert(notified.notified && notified.sounded, `a notification and the sound: ${JSON.stringify(notified)}`);
  t.assert(/new patients/.test(notified.body), `the notification quotes the message: ${notified.body}`);

  // Block, last (it shuts this machine's address out of the live chat for the rest of the
  // run): asked first; the visitor's open chat is refused, and so is a new one.
  await again.locator('.conv-open').click();
  await conversation.locator('.msg.in', { hasText: 'new patients' }).waitFor();
  await conversation.locator('[data-action=menu]').click();
  await page.locator('.menu .menu-item[data-action=block]').click();
  await page.locator('.overlay .btn.danger', { hasText: 'Block' }).click();
  await page.locator('.toast', { hasText: 'blocked' }).waitFor();
  await site.locator('[data-sb=error]', { hasText: 'not available from your address' }).waitFor();
  const next = await t.sitePage();
  await next.locator('[data-sb=bubble]').click();
  await next.locator('[data-sb=error]', { hasText: 'not available from your address' }).waitFor();
}
