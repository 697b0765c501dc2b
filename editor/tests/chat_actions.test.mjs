// The agent's other actions, each seen from both sides. Transfer: 101 hands an SMS chat
// to 102 (found by name), it leaves 101's list and appears in 102's, live. Archive and
// Unarchive move it between Recents and Archived; Delete asks first and removes it.
// Information shows the contact and the history, and Add as contact saves one it then shows. Markup in a message stays text. For a website chat, End chat session
// tells the visitor the chat has ended. A phone number in a message offers Call (the
// server rings 101's phone first; 101 has none registered here, so a tel: link is offered)
// and Send SMS (the SMS form, filled in). The ⋯ menu's Call is the same click-to-call:
// with no phone registered it offers the tel: link; with a phone of 101's registered (a
// small SIP phone here, on UDP) it asks the server (`POST /api/chat/call`, 202), the
// phone rings, and no tel: link is followed.

import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
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

  // The ⋯ menu's Call: no phone of 101's registered, the server says so (409) and the
  // tel: link is offered then, and only then.
  const calls = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/chat/call')) calls.push(r.postDataJSON());
  });
  await conversation.locator('[data-action=menu]').click();
  t.assert((await page.locator('.menu a[href^="tel:"]').count()) === 0, 'the menu item is no tel: link');
  await page.locator('.menu .menu-item[data-action=call]').click();
  await page.locator('.call-fallback a.tel-link[href="tel:+12605550123"]').waitFor();
  t.assert(calls.length === 1 && calls[0].number === '+12605550123', `the server was asked first: ${JSON.stringify(calls)}`);
  await page.keyboard.press('Escape');
  // With 101's phone registered: the server rings it (202), no tel: link anywhere.
  const phone = await RegisteredPhone.open(t, '101');
  try {
    const before = page.url();
    await conversation.locator('[data-action=menu]').click();
    const asked = page.waitForResponse((r) => r.url().endsWith('/api/chat/call'));
    await page.locator('.menu .menu-item[data-action=call]').click();
    const answer = await asked;
    t.assert(answer.status() === 202, `click-to-call accepted: ${answer.status()} ${await answer.text()}`);
    t.assert(calls.length === 2 && calls[1].number === '+12605550123', `asked for the customer: ${JSON.stringify(calls)}`);
    const invite = await phone.ringing();
    t.assert(/^INVITE sip:101@/.test(invite), `101's phone is rung first: ${invite.split('\r\n')[0]}`);
    await page.locator('.toast', { hasText: 'Your phone is ringing' }).waitFor();
    t.assert((await page.locator('.call-fallback').count()) === 0, 'no tel: fallback when the phone is registered');
    t.assert(page.url() === before, `no navigation: ${page.url()}`);
  } finally {
    await phone.close();
  }

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

/**
 * A SIP phone of `extension` registered with the server over UDP, just enough for
 * click-to-call: it REGISTERs (answering the digest challenge), declines the INVITE it is
 * rung with (603, so no call is left ringing for the tests after this one) and
 * unregisters on close.
 */
class RegisteredPhone {
  static async open(t, extension) {
    t.assert(t.sipAddr, 'SIP_ADDR is set (the phone registers with the server)');
    const [host, port] = t.sipAddr.split(':');
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const phone = new RegisteredPhone(socket, host, Number(port), extension, t.personPassword);
    await phone.register(3600);
    return phone;
  }

  constructor(socket, host, port, user, password) {
    Object.assign(this, { socket, host, port, user, password, callId: `${randomBytes(8).toString('hex')}@test`, cseq: 0 });
    this.waiting = []; // {match, resolve} for messages from the server
    this.invites = [];
    socket.on('message', (data) => {
      const text = data.toString('latin1');
      if (text.startsWith('INVITE ')) {
        this.invites.push(text);
        this.decline(text);
      } else if (text.startsWith('ACK ') || text.startsWith('CANCEL ')) {
        if (text.startsWith('CANCEL ')) this.reply(text, '200 OK');
        return;
      }
      for (const w of [...this.waiting]) {
        if (w.match(text)) {
          this.waiting.splice(this.waiting.indexOf(w), 1);
          w.resolve(text);
        }
      }
    });
  }

  next(match, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} from the server in 10 s`)), 10000);
      this.waiting.push({ match, resolve: (text) => (clearTimeout(timer), resolve(text)) });
    });
  }

  send(text) {
    this.socket.send(Buffer.from(text, 'latin1'), this.port, this.host);
  }

  request(expires, authorization) {
    const { port } = this.socket.address();
    this.cseq += 1;
    return [
      `REGISTER sip:${this.host}:${this.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `From: <sip:${this.user}@${this.host}>;tag=${this.callId.slice(0, 8)}`,
      `To: <sip:${this.user}@${this.host}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq} REGISTER`,
      `Contact: <sip:${this.user}@127.0.0.1:${port}>`,
      authorization ? `Authorization: ${authorization}` : null,
      'Max-Forwards: 70',
      `Expires: ${expires}`,
      'Content-Length: 0',
      '',
      '',
    ]
      .filter((l) => l !== null)
      .join('\r\n');
  }

  /** REGISTER for `expires` seconds (0 unregisters): challenged, then answered. */
  async register(expires) {
    const isReply = (code) => (text) => text.startsWith(`SIP/2.0 ${code}`) && text.includes(this.callId);
    const challenged = this.next(isReply(401), 'challenge');
    this.send(this.request(expires));
    const challenge = await challenged;
    const md5 = /WWW-Authenticate:\s*Digest ([^\r\n]*algorithm=MD5[^\r\n]*)/i.exec(challenge);
    if (!md5) throw new Error(`no MD5 challenge: ${challenge}`);
    const param = (name) => new RegExp(`${name}="?([^",]+)"?`).exec(md5[1])[1];
    const [realm, nonce] = [param('realm'), param('nonce')];
    const hash = (s) => createHash('md5').update(s).digest('hex');
    const uri = `sip:${this.host}:${this.port}`;
    const cnonce = randomBytes(8).toString('hex');
    const response = hash(`${hash(`${this.user}:${realm}:${this.password}`)}:${nonce}:00000001:${cnonce}:auth:${hash(`REGISTER:${uri}`)}`);
    const authorization = `Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
    const done = this.next(isReply(200), 'answer to the REGISTER');
    this.send(this.request(expires, authorization));
    await done;
  }

  /** The first INVITE the server rang this phone with (waits up to 10 s). */
  ringing() {
    if (this.invites.length) return Promise.resolve(this.invites[0]);
    return this.next((text) => text.startsWith('INVITE '), 'INVITE to the registered phone');
  }

  reply(request, status) {
    const headers = request.split('\r\n');
    const copy = (name) => headers.filter((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    const to = copy('To').map((h) => (/;tag=/.test(h) ? h : `${h};tag=declined`));
    this.send([`SIP/2.0 ${status}`, ...copy('Via'), ...copy('From'), ...to, ...copy('Call-ID'), ...copy('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
  }

  decline(invite) {
    this.reply(invite, '603 Decline');
  }

  async close() {
    try {
      await this.register(0);
    } finally {
      this.socket.close();
    }
  }
}
