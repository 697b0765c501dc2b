// Files in chat, from both sides: a file for an SMS customer is refused in words naming
// `chat.public-url` (this server has none, and a provider is sent a link it fetches, so
// nothing is sent); on a website visitor's chat 101 attaches a PNG (the Attach button's
// chooser) and sees it inline, loaded from /api/chat/files, and the visitor, on the site's
// own origin, sees the same image through its signed /chat/files link; 101 sends a PDF and
// the visitor downloads it, byte for byte; a file whose content is not what its name says
// (a PNG named .pdf) is refused and the server's words are shown. A customer's voice
// note is played in the message: the harness has no HTTPS provider for the server to fetch
// one from, so the page's read of the conversation is given a stored-file item
// (`{id, name, type, size}`, as the fetcher leaves it) and the file's route a real Ogg;
// Chromium plays it under the page's own Content Security Policy.

import { readFile } from 'node:fs/promises';
import { logInToQueues } from './chat_agent.mjs';

// A small real PDF (the server checks the %PDF- magic).
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

// A real one-second Ogg (Vorbis, 8 kHz mono).
const OGG = Buffer.from(
  'T2dnUwACAAAAAAAAAAA64QN2AAAAAIpSuagBHgF2b3JiaXMAAAAAAUAfAAAAAAAAsDYAAAAAAACZAU9nZ1MAAAAAAAAAAAAAOuEDdgEAAACf/Tr7C2D///////////+1A3ZvcmJpczQAAABYaXBoLk9yZyBsaWJWb3JiaXMgSSAyMDIwMDcwNCAoUmVkdWNpbmcgRW52aXJvbm1lbnQpAQAAABgAAABDb21tZW50PVByb2Nlc3NlZCBieSBTb1gBBXZvcmJpcxJCQ1YBAAABAAxSFCElGVNKYwiVUlIpBR1jUFtHHWPUOUYhZBBTiEkZpXtPKpVYSsgRUlgpRR1TTFNJlVKWKUUdYxRTSCFT1jFloXMUS4ZJCSVsTa50FkvomWOWMUYdY85aSp1j1jFFHWNSUkmhcxg6ZiVkFDpGxehifDA6laJCKL7H3lLpLYWKW4q91xpT6y2EGEtpwQhhc+211dxKasUYY4wxxsXiUyiC0JBVAAABAABABAFCQ1YBAAoAAMJQDEVRgNCQVQBABgCAABRFcRTHcRxHkiTLAkJDVgEAQAAAAgAAKI7hKJIjSZJkWZZlWZameZaouaov+64u667t6roOhIasBADIAAAYhiGH3knMkFOQSSYpVcw5CKH1DjnlFGTSUsaYYoxRzpBTDDEFMYbQKYUQ1E45pQwiCENInWTOIEs96OBi5zgQGrIiAIgCAACMQYwhxpBzDEoGIXKOScggRM45KZ2UTEoorbSWSQktldYi55yUTkompbQWUsuklNZCKwUAAAQ4AAAEWAiFhqwIAKIAABCDkFJIKcSUYk4xh5RSjinHkFLMOcWYcowx6CBUzDHIHIRIKcUYc0455iBkDCrmHIQMMgEAAAEOAAABFkKhISsCgDgBAIMkaZqlaaJoaZooeqaoqqIoqqrleabpmaaqeqKpqqaquq6pqq5seZ5peqaoqp4pqqqpqq5rqqrriqpqy6ar2rbpqrbsyrJuu7Ks256qyrapurJuqq5tu7Js664s27rkearqmabreqbpuqrr2rLqurLtmabriqor26bryrLryratyrKua6bpuqKr2q6purLtyq5tu7Ks+6br6rbqyrquyrLu27au+7KtC7vourauyq6uq7Ks67It67Zs20LJ81TVM03X9UzTdVXXtW3VdW1bM03XNV1XlkXVdWXVlXVddWVb90zTdU1XlWXTVWVZlWXddmVXl0XXtW1Vln1ddWVfl23d92VZ133TdXVblWXbV2VZ92Vd94VZt33dU1VbN11X103X1X1b131htm3fF11X11XZ1oVVlnXf1n1lmHWdMLqurqu27OuqLOu+ruvGMOu6MKy6bfyurQvDq+vGseu+rty+j2rbvvDqtjG8um4cu7Abv+37xrGpqm2brqvrpivrumzrvm/runGMrqvrqiz7uurKvm/ruvDrvi8Mo+vquirLurDasq/Lui4Mu64bw2rbwu7aunDMsi4Mt+8rx68LQ9W2heHVdaOr28ZvC8PSN3a+AACAAQcAgAATykChISsCgDgBAAYhCBVjECrGIIQQUgohpFQxBiFjDkrGHJQQSkkhlNIqxiBkjknIHJMQSmiplNBKKKWlUEpLoZTWUmotptRaDKG0FEpprZTSWmopttRSbBVjEDLnpGSOSSiltFZKaSlzTErGoKQOQiqlpNJKSa1lzknJoKPSOUippNJSSam1UEproZTWSkqxpdJKba3FGkppLaTSWkmptdRSba21WiPGIGSMQcmck1JKSamU0lrmnJQOOiqZg5JKKamVklKsmJPSQSglg4xKSaW1kkoroZTWSkqxhVJaa63VmFJLNZSSWkmpxVBKa621GlMrNYVQUgultBZKaa21VmtqLbZQQmuhpBZLKjG1FmNtrcUYSmmtpBJbKanFFluNrbVYU0s1lpJibK3V2EotOdZaa0ot1tJSjK21mFtMucVYaw0ltBZKaa2U0lpKrcXWWq2hlNZKKrGVklpsrdXYWow1lNJiKSm1kEpsrbVYW2w1ppZibLHVWFKLMcZYc0u11ZRai621WEsrNcYYa2415VIAAMCAAwBAgAlloNCQlQBAFAAAYAxjjEFoFHLMOSmNUs45JyVzDkIIKWXOQQghpc45CKW01DkHoZSUQikppRRbKCWl1losAACgwAEAIMAGTYnFAQoNWQkARAEAIMYoxRiExiClGIPQGKMUYxAqpRhzDkKlFGPOQcgYc85BKRljzkEnJYQQQimlhBBCKKWUAgAAChwAAAJs0JRYHKDQkBUBQBQAAGAMYgwxhiB0UjopEYRMSielkRJaCylllkqKJcbMWomtxNhICa2F1jJrJcbSYkatxFhiKgAA7MABAOzAQig0ZCUAkAcAQBijFGPOOWcQYsw5CCE0CDHmHIQQKsaccw5CCBVjzjkHIYTOOecghBBC55xzEEIIoYMQQgillNJBCCGEUkrpIIQQQimldBBCCKGUUgoAACpwAAAIsFFkc4KRoEJDVgIAeQAAgDFKOSclpUYpxiCkFFujFGMQUmqtYgxCSq3FWDEGIaXWYuwgpNRajLV2EFJqLcZaQ0qtxVhrziGl1mKsNdfUWoy15tx7ai3GWnPOuQAA3AUHALADG0U2JxgJKjRkJQCQBwBAIKQUY4w5h5RijDHnnENKMcaYc84pxhhzzjnnFGOMOeecc4wx55xzzjnGmHPOOeecc84556CDkDnnnHPQQeicc845CCF0zjnnHIQQCgAAKnAAAAiwUWRzgpGgQkNWAgDhAACAMZRSSimllFJKqKOUUkoppZRSAiGllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimllFJKKaWUUkoppZRSSimVUkoppZRSSimllFJKKaUAIN8KBwD/BxtnWEk6KxwNLjRkJQAQDgAAGMMYhIw5JyWlhjEIpXROSkklNYxBKKVzElJKKYPQWmqlpNJSShmElGILIZWUWgqltFZrKam1lFIoKcUaS0qppdYy5ySkklpLrbaYOQelpNZaaq3FEEJKsbXWUmuxdVJSSa211lptLaSUWmstxtZibCWlllprqcXWWkyptRZbSy3G1mJLrcXYYosxxhoLAOBucACASLBxhpWks8LR4EJDVgIAIQEABDJKOeecgxBCCCFSijHnoIMQQgghREox5pyDEEIIIYSMMecghBBCCKGUkDHmHIQQQgghhFI65yCEUEoJpZRSSucchBBCCKWUUkoJIYQQQiillFJKKSGEEEoppZRSSiklhBBCKKWUUkoppYQQQiillFJKKaWUEEIopZRSSimllBJCCKGUUkoppZRSQgillFJKKaWUUkooIYRSSimllFJKCSWUUkoppZRSSikhlFJKKaWUUkoppQAAgAMHAIAAI+gko8oibDThwgMQAAAAAgACTACBAYKCUQgChBEIAAAAAAAIAPgAAEgKgIiIaOYMDhASFBYYGhweICIkAAAAAAAAAAAAAAAABE9nZ1MABEAfAAAAAAAAOuEDdgIAAADAVwuXIRcREBEREBEREBEREBEQEBEQEBARERARERARERARERAZKrKemRnXG9hXABAAqKhhiho9vwUsLCwAup+ZcyevAGALAAAAABBZjwC6n5lt5RUAKAAAAACAsKoAup+ZcyevAKALAAAAAJC13QK6n5lzJ68A4AoAAAAA0K9nArqfmXMnrwDgAgAAAAD6dga6n5lzJ68A4EoAAAAA0K/nErqfmXMnrwCgSwAAAABQsF0Sup+ZbeUVACgBAAAAgMwVCbqfmXMnrwBgSwAAAAAQ524Jup+ZcyevAOBJAAAAAFBvlSS6n5mzk1cA8AAAAAAAMzsOup+Zs5NXAPAEAAAAAKjzSQC6n5lzJ2/gAwAAAACWx1kCup+ZbeUVACgAAAAAQHRyCbqfmXMnrwCgCwAAAABgnhICup+Zcydv4AIAAAAAhrctArqfmbOTVwBwAQAAAAD9egO6n5mzk1cAcAEAAAAA/bAJup+ZcyevAOBKAAAAAJC/d0q6n5lzJ68AoEsAAAAA4Jz8ErqfmW3lFQAoAQAAAIA8KRK6n5lzJ68AYEsAAAAAUM+qJLqfmXMnrwDgSQAAAAAws2MAup+ZcyevAOABAAAAAGaMALqfmXMnrwDgCQAAAABQb2UFup+ZcyevAGALAAAAABBZjwC6n5lt5RUAKAAAAACAsKoAup+ZcyevAKALAAAAAJC13QK6n5lzJ68A4AoAAAAA0K9nArqfmXMnrwDgAgAAAAD6dga2mpnvySsAuBIAEgAAYmsS9+dzCSC/zc8CmtSTIC+fN7CuApUKACBovvnw1/TwTuiETuiEMpRccsklV7jCFVERy4cy',
  'base64',
);

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
  // The list names the file the last message carried, not "an attachment".
  await page.locator(`.conv[data-id="${liveId}"] .conv-last`, { hasText: 'You: file form.pdf' }).waitFor();
  const [download] = await Promise.all([site.waitForEvent('download'), link.click()]);
  const got = await readFile(await download.path());
  t.assert(got.equals(PDF), `the visitor downloaded the PDF's bytes (${got.length} of ${PDF.length})`);
  t.assert(download.suggestedFilename() === 'form.pdf', `downloaded as ${download.suggestedFilename()}`);

  // A PNG named report.pdf: refused, in the server's words; nothing added.
  // A file over 10 MB is told at once, in a person's words, and never uploaded.
  let uploads = 0;
  const countUploads = (request) => { if (request.method() === 'POST' && request.url().includes('/files?')) uploads += 1; };
  page.on('request', countUploads);
  await live.locator('input[name=attach]').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(11 * 1024 * 1024, 0x25) });
  await page.locator('.toast.error', { hasText: 'scan.pdf was not sent: it is 11.0 MB, and files up to 10 MB can be sent' }).waitFor();
  page.off('request', countUploads);
  t.assert(uploads === 0, `the oversized file was not uploaded (${uploads} uploads)`);

  const before = await live.locator('.msg').count();
  await live.locator('input[name=attach]').setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: PNG });
  await page.locator('.toast.error', { hasText: "the file's content is not a PDF, though its name ends .pdf" }).waitFor();
  t.assert((await live.locator('.msg').count()) === before, 'the refused file added no message');

  // A customer's voice note: a player in the message, its download link beside.
  const VOICE_ID = 424242;
  await page.route(`**/api/chat/conversations/${liveId}`, async (route) => {
    const answer = await route.fetch();
    const body = await answer.json();
    for (const m of body.messages || []) {
      if (m.text === 'A voice note for you') m.attachment = [{ id: VOICE_ID, name: 'voice.ogg', type: 'audio/ogg', size: OGG.length }];
    }
    await route.fulfill({ response: answer, json: body });
  });
  await page.route(`**/api/chat/files/${VOICE_ID}`, (route) =>
    route.fulfill({ status: 200, contentType: 'audio/ogg', headers: { 'X-Content-Type-Options': 'nosniff' }, body: OGG }),
  );
  await site.locator('[data-sb=input]').fill('A voice note for you');
  await site.locator('[data-sb=send]').click();
  const player = live.locator('.msg.in .msg-attachment audio.msg-audio');
  await player.waitFor();
  const heard = await page.waitForFunction(
    (el) => el.readyState >= 1 && el.duration > 0.9 && el.duration < 1.1 && el.controls && el.src.endsWith(`/api/chat/files/424242`),
    await player.elementHandle(),
  );
  t.assert(await heard.jsonValue(), 'Chromium loaded the voice note: one second long');
  const beside = live.locator('.msg.in .msg-attachment a.link', { hasText: 'voice.ogg' });
  t.assert((await beside.getAttribute('download')) === 'voice.ogg', 'the download link is beside the player');
  await page.unroute(`**/api/chat/conversations/${liveId}`);
  await page.unroute(`**/api/chat/files/${VOICE_ID}`);
}
