// Choosing files to send, as both chat pages do it: the Attach button's chooser, a file
// dropped on the open conversation, or (where the page asks for it) an image pasted into
// the reply box. Each file is sent in turn; one the server refuses is told in its words
// (the type, the size) and the others still go.

import { h } from '../../../shared/dom.js';

/** The server's limit for one file (`MAX_FILE_BYTES` in runtime/src/chat/file_types.rs). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** What the chat guide lets people send ("Send images and files"). */
export const ATTACHABLE = '.pdf,.doc,.docx,.ppt,.pptx,.xls,.xlsx,.txt,.rtf,.jpg,.jpeg,.png,.gif,.bmp,.webp,.tif,.tiff,.heif,.heic';

/**
 * The Attach button and its hidden chooser (`input[name=attach]`), with dropping on
 * `dropZone` and, given `pasteInto`, pasting files into that text box.
 * `open()` says whether something is open to send into; `upload(file)` sends one and
 * resolves to the API's answer; `say(text)` tells a refusal; `sent()` runs after a batch.
 */
export function fileAttacher(ctx, { dropZone, pasteInto, open, upload, sent }) {
  const input = h('input.hidden', { type: 'file', name: 'attach', attrs: { accept: ATTACHABLE }, onchange: () => sendAll(input.files) });
  const button = h('button.btn.attach', { type: 'button', title: 'Send a file or image', dataset: { action: 'attach' }, onclick: () => input.click() }, 'Attach');

  async function sendAll(files) {
    const list = [...files];
    input.value = '';
    if (!open() || !list.length) return;
    button.disabled = true;
    for (const file of list) {
      // Told at once, in a person's words, rather than after uploading 10 MB to be refused.
      if (file.size > MAX_FILE_BYTES) {
        const mb = (file.size / (1024 * 1024)).toFixed(1);
        ctx.say(`${file.name} was not sent: it is ${mb} MB, and files up to 10 MB can be sent; send a smaller one, or a link to it in a message`, 'error');
        continue;
      }
      const answer = await upload(file);
      if (answer.status < 200 || answer.status >= 300) ctx.say(`${file.name} was not sent: ${ctx.api.errorText(answer)}`, 'error');
    }
    button.disabled = false;
    await sent();
  }

  const carriesFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  dropZone.addEventListener('dragover', (e) => {
    if (!open() || !carriesFiles(e)) return;
    e.preventDefault();
    dropZone.classList.add('dropping');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dropping'));
  dropZone.addEventListener('drop', (e) => {
    dropZone.classList.remove('dropping');
    if (!open() || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    sendAll(e.dataTransfer.files);
  });
  if (pasteInto) {
    // Only a paste holding files (a screenshot) is sent; pasted text is left to the box.
    pasteInto.addEventListener('paste', (e) => {
      const files = e.clipboardData ? [...e.clipboardData.files] : [];
      if (!open() || !files.length) return;
      e.preventDefault();
      // A pasted screenshot is named "image.png" by the browser; keep what it says.
      sendAll(files);
    });
  }
  return { button, input };
}
