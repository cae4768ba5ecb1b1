/**
 * Writes dist/bundle/: the CLI bundled by esbuild (`npm run build` runs this after tsc) into one
 * CommonJS file, cli.cjs, started by a small launcher, uplift.cjs (package.json `bin`), through a
 * V8 code cache that this build makes by running a plan. Native modules stay external and load
 * from node_modules; nothing else is left out (esbuild fails on an import it cannot resolve).
 *
 * Why this shape: a start of the tsc build resolves and compiles a few hundred modules. One file
 * removes the resolving, but V8 still compiles what runs, and Node 20 has no compile cache for ES
 * modules; for a classic script it takes V8's code cache (`vm.Script` `cachedData`), which skips
 * that compiling. Lazily imported commands stay lazy: esbuild turns an `import()` inside one
 * bundle into a call that runs the module's top level only then. Measured by
 * `npx tsx bench/run.ts --only start` (bench/cold-start.ts).
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { catalogValidatorSources } from '../src/catalog/index.ts';
import { validatorModules } from '../src/profile/load.ts';
import { nativePackages } from '../src/util/index.ts';

const root = join(import.meta.dirname, '..');

/** Packages with a compiled `.node` binary: they cannot be inlined, and load from node_modules. */
const native = nativePackages;
const isNative = (path: string) => native.some((n) => path === n || path.startsWith(`${n}/`));
/**
 * Native code a dependency only tries, in a `try { require(…) } catch {}`, and does without:
 * ssh2's `cpu-features` and its own `sshcrypto.node` (it falls back to node:crypto). Left external,
 * so the require fails beside a bundle copied to a node and ssh2 takes its pure-JS path.
 */
const optionalNative = ['cpu-features', 'pg-native'];
const isOptionalNative = (path: string) => path.endsWith('.node') || optionalNative.includes(path);

/**
 * An external `import x from 'better-sqlite3'` would be required at the top of the bundle, where it
 * would load (and, if its build failed, break) every start, even `--version`. An import of a
 * native module becomes a `require()` inside a small CommonJS wrapper instead, which runs only when
 * the module that imports it first runs; an `import()` of one becomes a call of that wrapper.
 */
const lazyNative: Plugin = {
  name: 'lazy-native',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (isOptionalNative(args.path) && args.kind === 'require-call')
        return { path: args.path, external: true };
      if (!isNative(args.path)) return undefined;
      if (
        (args.kind === 'import-statement' || args.kind === 'dynamic-import') &&
        args.namespace === 'file'
      )
        return { path: args.path, namespace: 'lazy-native' };
      return { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-native' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The bundle has no sources beside it to hash, so the validators' digest is computed here, from
 * the sources: one value for both caches that key on it, covering the profile validator's modules
 * (src/profile/load.ts) and the catalog cache's folders and packages (src/catalog/cache.ts).
 */
function bundledValidatorDigest(): string {
  const hash = createHash('sha256');
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  for (const m of validatorModules)
    hash.update(`${m}\0${sha(join(root, 'src/profile', `${m}.ts`))}\0`);
  for (const folder of catalogValidatorSources.folders) {
    const files = readdirSync(join(root, 'src', folder), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .sort();
    for (const f of files) hash.update(`${folder}/${f}\0${sha(join(root, 'src', folder, f))}\0`);
  }
  for (const p of catalogValidatorSources.packages) {
    const manifest = JSON.parse(
      readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8'),
    );
    hash.update(`${p}@${manifest.version}\0`);
  }
  return hash.digest('hex');
}
const validatorDigest = bundledValidatorDigest();

const outdir = join(root, 'dist/bundle');
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: join(outdir, 'cli.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: {
    UPLIFT_VALIDATOR_DIGEST: JSON.stringify(validatorDigest),
    // The bundle's own address, where the sources ask for their module's (to find the package root).
    'import.meta.url': '__upliftModuleUrl',
    // React's production build only (the report, src/report/html.tsx): its development build is
    // larger and its warnings quote `import()`, which the check below would take for a real one.
    'process.env.NODE_ENV': '"production"',
  },
  banner: { js: 'const __upliftModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazyNative],
  // Less to read and to cache at every start; names are kept, so stack traces still read.
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
const [output] = result.outputFiles;
if (output === undefined) throw new Error('esbuild wrote nothing');
// A script run by `vm` with a code cache cannot import() at run time in Node 20 (the import
// callback is lost with the cache), so nothing may be left to import at run time.
const runtimeImport = /\bimport\(\s*[^)]{0,60}/.exec(output.text);
if (runtimeImport)
  throw new Error(
    `the bundle imports at run time (${runtimeImport[0]}); bundle or require it instead`,
  );
// The launcher compiles the file as a function body, where a `#!` line is a syntax error.
const code = output.text.replace(/^#!.*\n/, '');
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);

/**
 * Written so that a CLI started from the old build (tests and builds run side by side in one
 * checkout) keeps working as far as it can: each file goes in by one rename, the code before the
 * launcher that names its build; caches of other builds are removed.
 */
function put(name: string, contents: string, mode = 0o644) {
  const path = join(outdir, name);
  writeFileSync(`${path}.${process.pid}`, contents, { mode });
  renameSync(`${path}.${process.pid}`, path);
}
mkdirSync(outdir, { recursive: true });
put('cli.cjs', code);
const versionRun = spawnSync(process.execPath, [join(outdir, 'cli.cjs'), '--version'], {
  encoding: 'utf8',
});
if (versionRun.status !== 0) throw new Error(`cli.cjs --version failed:\n${versionRun.stderr}`);
const launcher = readFileSync(join(root, 'tools/bundle-launcher.cjs'), 'utf8');
for (const mark of ["'@BUILD@'", "'@VERSION@'"])
  if (!launcher.includes(mark)) throw new Error(`tools/bundle-launcher.cjs lost its ${mark}`);
put(
  'uplift.cjs',
  launcher
    .replace("'@BUILD@'", JSON.stringify(id))
    .replace("'@VERSION@'", JSON.stringify(versionRun.stdout)),
  0o755,
);
for (const name of readdirSync(outdir))
  if (
    (name.endsWith('.v8cache') && !name.startsWith(`cli-${id}-`)) ||
    name === 'uplift.mjs' ||
    name === 'chunks'
  )
    rmSync(join(outdir, name), { recursive: true, force: true });

// The cache: the launcher leaves one behind after its first run. A plan on the sample facts
// compiles what most starts run (the command line, profiles, catalog, planner, output).
const warm = spawnSync(
  process.execPath,
  [
    join(outdir, 'uplift.cjs'),
    'plan',
    '--profile',
    'skiff',
    '--facts',
    'profiles/skiff/sample-facts.yaml',
  ],
  { cwd: root, encoding: 'utf8' },
);
if (
  ![0, 3].includes(warm.status ?? -1) ||
  !existsSync(join(outdir, `cli-${id}-${process.version}-${process.arch}.v8cache`))
)
  throw new Error(`the bundle's first run failed (exit ${warm.status}):\n${warm.stderr}`);
console.log(
  `dist/bundle/uplift.cjs + cli.cjs, ${(code.length / 1_048_576).toFixed(1)} MB, and its code cache`,
);
