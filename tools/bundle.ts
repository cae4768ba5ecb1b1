/**
 * Writes dist/bundle/: the CLI bundled by esbuild (`npm run build` runs this after tsc), entry
 * dist/bundle/uplift.mjs, so a start reads a few files instead of resolving a few hundred modules
 * across src/ and node_modules. Native modules stay external and load from node_modules as before;
 * nothing else is left out (esbuild fails on an import it cannot resolve).
 *
 * Not one single file: a single 2.4 MB ES module made `uplift --version` slower than the tsc build,
 * since V8 compiles the whole module at start (Node 20 has no compile cache). With code splitting
 * each lazily imported command stays its own chunk, so a start compiles only what it runs.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { validatorModules } from '../src/profile/load.ts';

const root = join(import.meta.dirname, '..');

/** Packages with a compiled `.node` binary: they cannot be inlined, and load from node_modules. */
const native = ['better-sqlite3', 'zstd-napi'];
const isNative = (path: string) => native.some((n) => path === n || path.startsWith(`${n}/`));

/**
 * esbuild hoists an external `import x from 'better-sqlite3'` to the top of an ESM bundle, where it
 * would load (and, if its build failed, break) every start, even `--version`. A static import of a
 * native module becomes a `require()` inside a small CommonJS wrapper instead, which runs only when
 * the module that imports it first runs. Dynamic `import()`s of them stay as they are.
 */
const lazyNative: Plugin = {
  name: 'lazy-native',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (!isNative(args.path)) return undefined;
      if (args.kind === 'import-statement' && args.namespace === 'file')
        return { path: args.path, namespace: 'lazy-native' };
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-native' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** The same digest src/profile/load.ts computes from its validator's files, from their sources. */
const validatorDigest = validatorModules
  .map((m) =>
    createHash('sha256')
      .update(readFileSync(join(root, 'src/profile', `${m}.ts`)))
      .digest('hex'),
  )
  .join('\0');

const outdir = join(root, 'dist/bundle');
const entry = join(outdir, 'uplift.mjs');
const result = await build({
  absWorkingDir: root,
  entryPoints: { uplift: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
  banner: {
    js: "import { createRequire as __upliftRequire } from 'node:module';\nconst require = __upliftRequire(import.meta.url);",
  },
  define: { UPLIFT_VALIDATOR_DIGEST: JSON.stringify(validatorDigest) },
  plugins: [lazyNative],
  // Less to parse at every start; names are kept, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});

/**
 * Written so that a CLI started from the old build (tests and builds run side by side in one
 * checkout) keeps working: chunk names carry their content hash, so the new chunks go first and
 * never change an old one (an existing name is left alone); the entry is then replaced in one rename; and only chunks that this
 * build does not use and that are an hour old are removed.
 */
const written = new Set<string>();
for (const f of result.outputFiles.filter((o) => o.path !== entry)) {
  written.add(f.path);
  if (existsSync(f.path)) continue; // the same name is the same content; rewriting it could tear it
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.contents);
}
const main = result.outputFiles.find((o) => o.path === entry);
if (!main) throw new Error(`esbuild wrote no ${relative(root, entry)}`);
writeFileSync(`${entry}.${process.pid}`, main.contents, { mode: 0o755 });
renameSync(`${entry}.${process.pid}`, entry);
const chunks = join(outdir, 'chunks');
for (const name of readdirSync(chunks)) {
  const path = join(chunks, name);
  if (!written.has(path) && Date.now() - statSync(path).mtimeMs > 3_600_000)
    rmSync(path, { force: true });
}
const bytes = result.outputFiles.reduce((sum, o) => sum + o.contents.length, 0);
console.log(
  `dist/bundle/uplift.mjs + ${written.size} chunks, ${(bytes / 1_048_576).toFixed(1)} MB`,
);
