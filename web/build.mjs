// Builds the browser app into internal/web/dist (embedded by the Go server),
// or, with --tests, the unit tests into test-build/.
//
//   node build.mjs            production bundle
//   node build.mjs --tests    unit tests for `node --test`

import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'internal', 'web', 'dist');

async function buildApp() {
  // Empty dist but keep .gitkeep, which holds the directory in git for go:embed.
  await mkdir(dist, { recursive: true });
  for (const entry of await readdir(dist)) {
    if (entry !== '.gitkeep') await rm(join(dist, entry), { recursive: true, force: true });
  }
  await build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    outdir: join(dist, 'assets'),
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    sourcemap: false, // no source maps: the server would hand them to anyone, with the build machine's paths
    target: ['chrome100', 'firefox100', 'safari15.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  // The frame worker (media end-to-end encryption) is its own classic script:
  // media/framecrypto.ts loads it from /assets/frames-worker.js.
  await build({
    entryPoints: { 'frames-worker': join(here, 'src', 'crypto', 'frames.worker.ts') },
    outdir: join(dist, 'assets'),
    bundle: true,
    format: 'iife',
    minify: true,
    sourcemap: false, // no source maps: the server would hand them to anyone, with the build machine's paths
    target: ['chrome100', 'firefox100', 'safari15.4'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const statics = [
    ['index.html', 'index.html'],
    ['manifest.webmanifest', 'manifest.webmanifest'],
    ['icon.svg', 'assets/icon.svg'],
    ['icon-maskable.svg', 'assets/icon-maskable.svg'],
    ['icon-192.png', 'assets/icon-192.png'],
    ['icon-512.png', 'assets/icon-512.png'],
  ];
  for (const [from, to] of statics) await copyFile(join(here, 'static', from), join(dist, to));
  console.log(`built ${dist}`);
}

async function buildTests() {
  const dir = join(here, 'test');
  const out = join(here, 'test-build');
  await rm(out, { recursive: true, force: true });
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
  await build({
    entryPoints: entries,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['node:*'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
}

if (process.argv.includes('--tests')) await buildTests();
else await buildApp();
