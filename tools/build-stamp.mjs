// Whether dist/ was built from the sources as they are now, so `npm start` can skip a 30 s rebuild.
// `node tools/build-stamp.mjs record` (the last step of `npm run build`) writes a digest of every
// build input to dist/.build-inputs; `node tools/build-stamp.mjs check` exits 0 when the digest of
// the inputs now equals it and the outputs exist, 1 otherwise (a fresh clone has no stamp).
// Contents, not mtimes: a checkout or a copy that keeps old mtimes cannot fool it.
// Plain JavaScript: it runs before every `npm start`, and Node 20 cannot run TypeScript without
// tsx, whose start costs more than the check itself.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const stamp = join(root, 'dist/.build-inputs');

/** Folders whose sources are compiled or bundled (test files are not). */
const sourceDirs = ['src', 'products/skiff/src'];
/** Single files that change what the build emits. */
const inputFiles = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vite.config.ts',
  'products/skiff/tsconfig.json',
  'tools/bundle.ts',
  'tools/bundle-launcher.cjs',
  'tools/build-stamp.mjs',
];
/** What a complete build leaves behind. */
const outputs = [
  'dist/cli/main.js',
  'dist/bundle/uplift.cjs',
  'products/skiff/dist/index.js',
  'dist/dashboard/index.html',
];

function sources(dir) {
  const found = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.endsWith('.test.ts')) continue;
    found.push(relative(root, join(e.parentPath, e.name)));
  }
  return found;
}

function digest() {
  const files = [...sourceDirs.flatMap(sources), ...inputFiles].sort();
  const h = createHash('sha256');
  for (const f of files) {
    const p = join(root, f);
    h.update(
      `${f}\0${existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : '-'}\0`,
    );
  }
  return h.digest('hex');
}

const mode = process.argv[2];
if (mode === 'record') {
  writeFileSync(stamp, `${digest()}\n`);
} else if (mode === 'check') {
  const recorded = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  const fresh = recorded === digest() && outputs.every((o) => existsSync(join(root, o)));
  if (!fresh) console.error('dist/ is missing or older than the sources: building');
  process.exitCode = fresh ? 0 : 1;
} else {
  console.error('usage: node tools/build-stamp.mjs record|check');
  process.exitCode = 2;
}
