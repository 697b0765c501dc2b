// Files in chat, from both sides: a file for an SMS customer is refused in words naming
// `chat.public-url` (this server has none, and a provider is sent a link it fetches, so
// nothing is sent); on a website visitor's chat 101 attaches a PNG (the Attach button's
// chooser) and sees it inline, loaded from /api/chat/files, and the visitor, on the site's
// own origin, sees the same image through its signed /chat/files link; 101 sends a PDF and
// the visitor downloads it, byte for byte; a file whose content is not what its name says
// (a PNG named .pdf) is refused and the server's words are shown.

import { readFile } from 'node:fs/promises';
import { logInToQueues } from './chat_agent.mjs';

// A small real PDF (the server checks the %PDF- magic).
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

// A real 1×1 PNG.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63b8606000000304013174bf75770000000049454e44ae426082',
  'hex',
);

export default async function (t) {
  const { page } = t;
  await t.signInPerson('101');

  const started = await page.evaluate(async () => {
    const session = await fetch('/api/session').then((r) => r.json());
    const r = await fetch('/api/chat/sms', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf },
      body: JSON.stringify({ to: '+12605550177', text: 'Here is the photo you asked for' }),
    });
    return { status: r.status, body: await r.json() };
  });
  t.assert(started.status === 201 || started.status === 200, `the SMS chat started: ${JSON.stringify(started)}`);
  const row = page.locator('.conv.mine[data-channel=sms]', { hasText: '+12605550177' });
  await row.waitFor();
  const id = await row.getAttribute('data-id');
  await row.locator('.conv-open').click();
  const conversation = page.locator(`.conversation[data-id="${id}"]`);
  await conversation.locator('.msg.out', { hasText: 'photo you asked for' }).waitFor();

  // To an SMS customer a file is refused, in words, and nothing is added.
  const sms = await conversation.locator('.msg').count();
  await conversation.locator('input[name=attach]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
  await page.locator('.toast.error', { hasText: 'files reach SMS customers as a link' }).waitFor();
  await page.locator('.toast.error', { hasText: 'chat.public-url' }).waitFor();
  t.assert((await conversation.locator('.msg').count()) === sms, 'the refused file added no message to the SMS chat');

  // A website visitor asks for a form; 101 (logged in to the queue from the desk phone)
  // opens the chat.
  await logInToQueues(t, '101');
  const site = await t.sitePage();
  await site.locator('[data-sb=bubble]').click();
  await site.locator('[data-sb=panel][data-online=true]').waitFor();
  await site.locator('[data-sb=input]').fill('Could you send me the registration form?');
  await site.locator('[data-sb=send]').click();
  const offered = page.locator('.conv.offered', { hasText: 'registration form' });
  await offered.waitFor();
  const liveId = await offered.getAttribute('data-id');
  await offered.locator('.conv-open').click();
  const live = page.locator(`.conversation[data-id="${liveId}"]`);
  await live.locator('.msg.in', { hasText: 'registration form' }).waitFor();

  // Attach a PNG: shown inline, and the browser really loaded it.
  await live.locator('input[name=attach]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
  const image = live.locator('.msg.out .msg-attachment img.msg-image');
  await image.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth === 1, await image.elementHandle());
  t.assert((await image.getAttribute('src')).startsWith('/api/chat/files/'), 'the image comes from /api/chat/files');

  // The visitor sees the same image, loaded from the signed link on the server (the site
  // is another origin: no session there), never the old "ask them by email" words.
  const seen = site.locator('[data-sb=message][data-from=agent] img[data-sb=image]');
  await seen.waitFor();
  await site.waitForFunction((el) => el.complete && el.naturalWidth === 1, await seen.elementHandle());
  const src = await seen.getAttribute('src');
  t.assert(src.startsWith(`${t.baseUrl}/chat/files/`) && /[?&]sig=[0-9a-f]{64}/.test(src), `the image's link is signed: ${src}`);
  t.assert(!(await site.locator('[data-sb=log]').innerText()).includes('by email'), 'no "ask them by email" words');

  // 101 sends a PDF: the visitor gets a download link naming it, and downloads the bytes.
  await live.locator('input[name=attach]').setInputFiles({ name: 'form.pdf', mimeType: 'application/pdf', buffer: PDF });
  const link = site.locator('[data-sb=message][data-from=agent] a[data-sb=download]', { hasText: 'form.pdf' });
  await link.waitFor();
  t.assert((await link.innerText()).includes(`(${PDF.length} bytes)`), `the link names the size: ${await link.innerText()}`);
  const [download] = await Promise.all([site.waitForEvent('download'), link.click()]);
  const got = await readFile(await download.path());
  t.assert(got.equals(PDF), `the visitor downloaded the PDF's bytes (${got.length} of ${PDF.length})`);
  t.assert(download.suggestedFilename() === 'form.pdf', `downloaded as ${download.suggestedFilename()}`);

  // A PNG named report.pdf: refused, in the server's words; nothing added.
  const before = await live.locator('.msg').count();
  await live.locator('input[name=attach]').setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: PNG });
  await page.locator('.toast.error', { hasText: "the file's content is not a PDF, though its name ends .pdf" }).waitFor();
  t.assert((await live.locator('.msg').count()) === before, 'the refused file added no message');
}
