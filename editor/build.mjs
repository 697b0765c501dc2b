// Bundles the editor app into dist/, which is committed and embedded in the server by the
// switchboard-editor crate (src/lib.rs), so building the server needs no Node.
//
//   dist/app.js    src/app/main.js and everything it imports, minified
//   dist/app.css   the CSS those modules import
//   dist/index.html
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
const src = join(here, 'src', 'app');
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: { app: join(src, 'main.js') },
  outdir: dist,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  legalComments: 'eof',
  charset: 'utf8',
  sourcemap: false,
  logLevel: 'warning',
});

writeFileSync(join(dist, 'index.html'), readFileSync(join(src, 'index.html')));

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

// What a browser downloads: the page itself goes uncompressed (the server writes a fresh
// CSP nonce into it for every answer), the bundle gzipped.
const total = sizes.reduce((sum, s) => sum + (s.name === 'index.html' ? s.bytes : s.gzip), 0);
for (const s of sizes) console.log(`${s.name.padEnd(12)} ${String(s.bytes).padStart(8)} bytes, ${String(s.gzip).padStart(7)} gzipped`);
console.log(`the page loads ${total} bytes compressed (index.html as it is, the rest gzipped; limit 500 KB)`);
if (total > 500 * 1024) throw new Error(`the page loads ${total} bytes compressed, over the 500 KB the issue allows`);
