// Colleagues' chat in the people's client: Alice (101) finds Bruno (102) in the Team
// page's colleagues and writes to him; Bruno, with his page already open, sees the thread
// appear with its unread count and the message in it without reloading; his reply appears
// in Alice's open thread the same way, and opening the thread clears his count.
// Files: Alice attaches a picture (the Attach button's chooser) and Bruno's open thread
// shows it inline, loaded from /api/team/files; she sends a PDF and he downloads it, byte
// for byte; a program renamed .pdf is refused in the server's words; an image pasted into
// the reply box is sent too.

import { readFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

// A small real PDF (the server checks the %PDF- magic).
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

// A real 1×1 PNG.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63b8606000000304013174bf75770000000049454e44ae426082',
  'hex',
);

/**
 * A real `width`×`height` RGB PNG: a gradient with noise in it, so it does not compress
 * (the photo is over the API's 16 KiB body limit, as real ones are).
 */
function photo(width, height) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = [0]; // filter: none
    for (let x = 0; x < width; x++) {
      const noise = Math.floor(Math.random() * 48);
      row.push(40 + Math.floor((x / width) * 160) + noise, 90 + noise, 200 - Math.floor((y / height) * 120) + noise);
    }
    rows.push(...row);
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export default async function (t) {
  const { page } = t;
  const bruno = await t.otherPage();
  await t.signInPerson('102', undefined, bruno);
  await bruno.locator('.nav-tab[data-page=team]').click();
  await bruno.locator('.team-people .team-person[data-extension="101"]').waitFor();

  await t.signInPerson('101');
  await page.locator('.nav-tab[data-page=team]').click();
  await page.locator('.team-search').fill('bru');
  await page.locator('.team-people .team-person[data-extension="102"]').click();
  const thread = page.locator('.team-conversation:not(.hidden)');
  await thread.locator('.team-contact', { hasText: 'Bruno' }).waitFor();
  const text = `Lunch at noon? ${Date.now()}`;
  await thread.locator('textarea[name=team-reply]').fill(text);
  await thread.locator('textarea[name=team-reply]').press('Enter');
  await thread.locator('.team-msg.out', { hasText: text }).waitFor();

  // Bruno's page, never reloaded, hears of it.
  const row = bruno.locator('.team-thread[data-kind=direct][data-with="101"]');
  await row.locator('.team-unread', { hasText: '1' }).waitFor();
  await row.locator('.team-last', { hasText: text }).waitFor();
  await bruno.locator('.nav-tab[data-page=team] .badge', { hasText: '1' }).waitFor();
  await row.locator('.team-open').click();
  const brunos = bruno.locator('.team-conversation:not(.hidden)');
  await brunos.locator('.team-msg.in', { hasText: text }).waitFor();
  await row.locator('.team-unread').waitFor({ state: 'detached' });

  // And back: Alice's open thread shows the reply as it is written.
  await brunos.locator('textarea[name=team-reply]').fill('Yes, see you there.');
  await brunos.locator('.team-send').click();
  await thread.locator('.team-msg.in', { hasText: 'Yes, see you there.' }).waitFor();

  // Alice attaches a picture (over the API's 16 KiB, as photos are): Bruno's open thread
  // shows it, really loaded.
  const picture = photo(240, 120);
  t.assert(picture.length > 16 * 1024, `the picture is ${picture.length} bytes`);
  await thread.locator('input[name=attach]').setInputFiles({ name: 'whiteboard.png', mimeType: 'image/png', buffer: picture });
  await thread.locator('.team-msg.out .msg-attachment img.msg-image').waitFor();
  const image = brunos.locator('.team-msg.in .msg-attachment img.msg-image');
  await image.waitFor();
  await bruno.waitForFunction((el) => el.complete && el.naturalWidth === 240, await image.elementHandle());
  t.assert((await image.getAttribute('src')).startsWith('/api/team/files/'), 'the image comes from /api/team/files');
  t.assert((await image.getAttribute('alt')) === 'whiteboard.png', 'the image is named');

  // A PDF: a download link with its name and size; Bruno downloads the same bytes.
  await thread.locator('input[name=attach]').setInputFiles({ name: 'rota.pdf', mimeType: 'application/pdf', buffer: PDF });
  const link = brunos.locator('.team-msg.in .msg-attachment a.link', { hasText: 'rota.pdf' });
  await link.waitFor();
  t.assert((await brunos.locator('.team-msg.in .msg-attachment', { hasText: 'rota.pdf' }).textContent()).includes(`${PDF.length} bytes`), 'the size is shown');
  await row.locator('.team-last', { hasText: 'rota.pdf' }).waitFor();
  const [download] = await Promise.all([bruno.waitForEvent('download'), link.click()]);
  t.assert(download.suggestedFilename() === 'rota.pdf', `downloaded as ${download.suggestedFilename()}`);
  const bytes = await readFile(await download.path());
  t.assert(Buffer.compare(bytes, PDF) === 0, `the downloaded PDF is the sent one (${bytes.length} bytes)`);

  // A program renamed .pdf is refused in the server's words; nothing is added.
  const count = await thread.locator('.team-msg').count();
  await thread.locator('input[name=attach]').setInputFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62)]) });
  await page.locator('.toast.error', { hasText: 'not a PDF' }).waitFor();
  t.assert((await thread.locator('.team-msg').count()) === count, 'the refused file added no message');

  // A screenshot pasted into the reply box is sent as a file.
  await thread.locator('textarea[name=team-reply]').evaluate((box, hex) => {
    const bytes = new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, PNG.toString('hex'));
  await brunos.locator('.team-msg.in .msg-attachment img.msg-image[alt="image.png"]').waitFor();
  await t.screenshot('team-chat');
}
