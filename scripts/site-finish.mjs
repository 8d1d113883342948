// Finishes the site cargo-leptos built, so the host can serve it small and cached
// (server/src/assets.rs; figures in docs/performance.md):
//
//   node scripts/site-finish.mjs <site-root> <server-binary-dir> [--strip-wasm]
//
// 1. Copies cargo-leptos' hash.txt (the content hashes in /pkg's file names, written beside the
//    server binary) into the site root, so the site directory is complete on its own.
//    (It is public like the hashed names in every page; nothing else in it.) The TypeScript
//    declarations wasm-bindgen writes are removed: browsers don't use them.
// 2. --strip-wasm: drops the WASM's name and producers sections with wasm-opt (binaryen from npm).
//    Dev builds keep them (a third of the file); release builds have them stripped by cargo-leptos.
//    Only stripped, not optimised: `wasm-opt -Oz` saves raw bytes but costs ~1.5 min here and
//    compresses worse (brotli 573 KB vs 513 KB for the same build).
// 3. Precompresses each text asset as .br (quality 11) and .gz (level 9), kept only when smaller.
//    Brotli at its best is far too slow to run per request; at build time it costs seconds.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const [siteRoot, binDir, ...flags] = process.argv.slice(2);
if (!siteRoot || !binDir || !existsSync(join(siteRoot, 'pkg'))) {
  console.error('usage: node scripts/site-finish.mjs <site-root with pkg/> <server-binary-dir> [--strip-wasm]');
  process.exit(2);
}

const hashes = join(binDir, 'hash.txt');
if (existsSync(hashes)) copyFileSync(hashes, join(siteRoot, 'hash.txt'));
else console.warn(`site-finish: no ${hashes}: /pkg names carry no hashes, so browsers revalidate them`);

const pkg = join(siteRoot, 'pkg');
// TypeScript declarations of the JS glue: for tooling, not for browsers.
for (const f of readdirSync(pkg).filter((f) => f.endsWith('.d.ts') || /\.d\.[\w-]+\.ts$/.test(f))) unlinkSync(join(pkg, f));
if (flags.includes('--strip-wasm')) {
  const wasmOpt = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'wasm-opt');
  for (const f of readdirSync(pkg).filter((f) => f.endsWith('.wasm'))) {
    const file = join(pkg, f);
    // The features rustc's wasm32 target emits; not --all-features, which would re-encode the
    // imports in a form browsers don't read yet ("compact imports").
    const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue'];
    execFileSync(wasmOpt, [...features.map((f) => `--enable-${f}`), '--strip-debug', '--strip-producers', file, '-o', file], { stdio: 'inherit' });
  }
}

const COMPRESSIBLE = /\.(wasm|js|css|svg|json|txt|html)$/;
let raw = 0, br = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) { walk(file); continue; }
    if (!COMPRESSIBLE.test(name) || name === 'hash.txt') continue;
    const data = readFileSync(file);
    if (data.length < 1024) continue;
    const brotli = zlib.brotliCompressSync(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gzip = zlib.gzipSync(data, { level: 9 });
    if (brotli.length < data.length) writeFileSync(`${file}.br`, brotli);
    if (gzip.length < data.length) writeFileSync(`${file}.gz`, gzip);
    raw += data.length;
    br += Math.min(brotli.length, data.length);
  }
}
walk(siteRoot);
console.log(`site-finish: ${siteRoot}: ${(raw / 1e6).toFixed(2)} MB of assets, ${(br / 1e6).toFixed(2)} MB as brotli`);
