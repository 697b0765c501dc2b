// Bundles the web apps into dist/, which is committed and embedded in the server by the
// switchboard-editor crate (src/lib.rs), so building the server needs no Node.
//
//   dist/app.js    the admin's editor: src/app/main.js and everything it imports, minified
//   dist/app.css   the CSS those modules import
//   dist/index.html
//   dist/client.js the people's web client (`/client/`): src/client/main.js, likewise
//   dist/client.css, dist/client.html
//   dist/widget.js the live-chat widget websites include (`/chat/widget.js`): src/widget/main.js
//   dist/*.gz      each of them gzipped, for browsers that accept it
//
// The output is reproducible byte for byte: esbuild is deterministic for one version and
// input, and Node's gzip header carries no file name and a zero modification time (checked
// below), so `.ci/run` can rebuild and compare with what is committed.

import { build } from 'esbuild';
import { gzipSync, constants } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

// Each bundle: its output name, its entry module, the module format (`esm` for a page's
// `<script type="module">`, `iife` for a script another site includes), and the page
// copied beside it (`[from, to]`, or null).
const bundles = [
  { name: 'app', entry: 'src/app/main.js', format: 'esm', page: ['src/app/index.html', 'index.html'] },
  { name: 'client', entry: 'src/client/main.js', format: 'esm', page: ['src/client/index.html', 'client.html'] },
  { name: 'widget', entry: 'src/widget/main.js', format: 'iife', page: null },
];

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

for (const bundle of bundles) {
  await build({
    entryPoints: { [bundle.name]: join(here, bundle.entry) },
    outdir: dist,
    bundle: true,
    minify: true,
    format: bundle.format,
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    legalComments: 'eof',
    charset: 'utf8',
    sourcemap: false,
    logLevel: 'warning',
  });
  if (bundle.page) writeFileSync(join(dist, bundle.page[1]), readFileSync(join(here, bundle.page[0])));
}

const sizes = [];
for (const name of readdirSync(dist).sort()) {
  const bytes = readFileSync(join(dist, name));
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  // RFC 1952: bytes 4..8 are MTIME; zero means "no time", so the copy never depends on when
  // it was built. Node writes zero today; this fails loudly if that ever changes.
  if (gz.readUInt32LE(4) !== 0) throw new Error(`gzip of ${name} carries a time stamp; the bundle would not be reproducible`);
  writeFileSync(join(dist, name + '.gz'), gz);
  sizes.push({ name, bytes: bytes.length, gzip: gz.length });
}

// What a browser downloads for each page: the page itself uncompressed (the server writes
// a fresh CSP nonce into it for every answer), its bundle gzipped.
for (const s of sizes) console.log(`${s.name.padEnd(14)} ${String(s.bytes).padStart(8)} bytes, ${String(s.gzip).padStart(7)} gzipped`);
for (const bundle of bundles.filter((b) => b.page)) {
  const page = bundle.page[1];
  const mine = sizes.filter((s) => s.name === page || s.name.startsWith(bundle.name + '.'));
  const total = mine.reduce((sum, s) => sum + (s.name === page ? s.bytes : s.gzip), 0);
  console.log(`${page} loads ${total} bytes compressed (the page as it is, the rest gzipped; limit 500 KB)`);
  if (total > 500 * 1024) throw new Error(`${page} loads ${total} bytes compressed, over the 500 KB the issue allows`);
}
