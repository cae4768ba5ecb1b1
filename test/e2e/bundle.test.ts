import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { writeReleaseTree } from '../util/pack-assemble.ts';
import { cliPath, repoRoot } from '../util/run-cli.ts';

/**
 * The esbuild bundle (dist/bundle/uplift.mjs, what `bin` points at) against the tsc build
 * (dist/cli/main.js): the same real commands through each must print the same thing, exit the same
 * way and write the same bytes. Each CLI writes into its own folder, whose name is then masked.
 */
const bundlePath = join(repoRoot, 'dist/bundle/uplift.cjs');
const entries = { tsc: cliPath, bundle: bundlePath } as const;
type Entry = keyof typeof entries;

let d: string;
let install: string;

/** Runs one CLI from outside the repository, so nothing is found through the working folder. */
function uplift(entry: Entry, args: readonly string[]) {
  const r = spawnSync(process.execPath, [entries[entry], ...args], {
    cwd: d,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  // Its output folder, and how long it took.
  const mask = (s: string) =>
    s.replaceAll(join(d, entry), '<out>').replace(/"seconds": [\d.e-]+/g, '"seconds": 0');
  return { code: r.status ?? -1, stdout: mask(r.stdout), stderr: mask(r.stderr) };
}

/** Both CLIs on the same arguments; `out` gives each its own output folder. */
function both(args: (out: string) => readonly string[]) {
  return {
    tsc: uplift('tsc', args(join(d, 'tsc'))),
    bundle: uplift('bundle', args(join(d, 'bundle'))),
  };
}

beforeAll(async () => {
  d = mkdtempSync(join(tmpdir(), 'uplift-bundle-'));
  for (const entry of Object.keys(entries)) mkdirSync(join(d, entry));
  install = (await makeSkiffInstall({ version: '5.4 GA' })).install;
  writeReleaseTree(join(d, 'a'), '5.4 GA', { version: '5.4 GA\n', 'lib/a.js': 'a\n' });
  writeReleaseTree(join(d, 'b'), '5.4 Patch 2', { version: '5.4 Patch 2\n', 'lib/a.js': 'A\n' });
  const keys = uplift('tsc', ['keys', 'generate', '--out', join(d, 'release'), '--json']);
  expect(keys.code, keys.stderr).toBe(0);
});

afterAll(async () => {
  rmSync(d, { recursive: true, force: true });
  await cleanUp();
});

describe('the bundle runs commands as the tsc build does', () => {
  it.each([
    ['--version', ['--version']],
    ['-V', ['-V']],
    ['help', ['--help']],
    ['the built-in profiles (found beside the package, not beside the bundle)', ['profiles']],
    [
      'plan on the sample facts',
      ['plan', '--profile', 'skiff', '--facts', 'profiles/skiff/sample-facts.yaml', '--json'],
    ],
    ['facts of an installation', ['facts', '--install', '<install>', '--json']],
    ['an unknown profile (exit 2)', ['plan', '--profile', 'no-such', '--json']],
  ])('%s', (_, args) => {
    const resolved = args.map((a) =>
      a === '<install>' ? install : a.startsWith('profiles/') ? join(repoRoot, a) : a,
    );

    const r = both(() => resolved);

    expect(r.bundle.stderr).toBe(r.tsc.stderr);
    expect(r.bundle.stdout).toBe(r.tsc.stdout);
    expect(r.bundle.code).toBe(r.tsc.code);
    expect(r.tsc.stdout.length).toBeGreaterThan(0);
  });

  it('builds byte-identical packs, and each verifies the other', () => {
    const platform = (
      JSON.parse(uplift('tsc', ['facts', '--install', install, '--json']).stdout) as {
        platform: { id: string };
      }
    ).platform.id;
    const build = both((out) => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'a'),
      '--to-tree',
      join(d, 'b'),
      '--platform',
      platform,
      '--key',
      join(d, 'release.key'),
      '--out',
      join(out, 'p.upk'),
      '--build',
      '7',
      '--json',
    ]);
    const verify = (entry: Entry, other: Entry) =>
      uplift(entry, [
        'pack',
        'verify',
        join(d, other, 'p.upk'),
        '--trust',
        join(d, 'release.pub'),
        '--install',
        install,
        '--json',
      ]);

    const bundleVerifiesTsc = verify('bundle', 'tsc');
    const tscVerifiesBundle = verify('tsc', 'bundle');

    expect(build.tsc.code, build.tsc.stderr).toBe(0);
    expect(build.bundle).toEqual(build.tsc);
    expect(readFileSync(join(d, 'bundle/p.upk'))).toEqual(readFileSync(join(d, 'tsc/p.upk')));
    expect(bundleVerifiesTsc.code, bundleVerifiesTsc.stdout).toBe(0);
    expect(JSON.parse(bundleVerifiesTsc.stdout)).toEqual({
      ...JSON.parse(tscVerifiesBundle.stdout),
      file: join(d, 'tsc/p.upk'),
    });
  });

  it('backs up an installation, and each verifies the backup of the other', () => {
    const backup = both((out) => [
      'backup',
      '--install',
      install,
      '--out',
      join(out, 'backup.tar.gz'),
      '--json',
    ]);
    const keys = (s: string) => Object.keys(JSON.parse(s) as object);
    /** A verify report without what differs between any two backups: file, id, time, archive. */
    const stable = (s: string) => {
      const { file, id, created, sha256, archiveBytes, ...rest } = JSON.parse(s) as Record<
        string,
        unknown
      >;
      return rest;
    };
    const verify = (entry: Entry, other: Entry) =>
      uplift(entry, ['backup', '--verify', join(d, other, 'backup.tar.gz'), '--json']);

    const bundleVerifiesTsc = verify('bundle', 'tsc');
    const tscVerifiesBundle = verify('tsc', 'bundle');

    expect(backup.tsc.code, backup.tsc.stdout).toBe(0);
    expect(backup.bundle.code, backup.bundle.stdout).toBe(0);
    expect(keys(backup.bundle.stdout)).toEqual(keys(backup.tsc.stdout));
    expect(bundleVerifiesTsc.code, bundleVerifiesTsc.stdout).toBe(0);
    expect(stable(bundleVerifiesTsc.stdout)).toEqual(stable(tscVerifiesBundle.stdout));
  });
});

describe('the launcher runs the bundle through a V8 code cache', () => {
  /** A copy of the package's bundle (and package.json, where --version reads) in a folder of its own. */
  function copyOfBundle(): { dir: string; cache: () => string | undefined } {
    const pkg = mkdtempSync(join(tmpdir(), 'uplift-launcher-'));
    const dir = join(pkg, 'dist/bundle');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
    for (const f of ['uplift.cjs', 'cli.cjs'])
      copyFileSync(join(repoRoot, 'dist/bundle', f), join(dir, f));
    const cache = () => readdirSync(dir).find((f) => f.endsWith('.v8cache'));
    return { dir, cache };
  }
  /** A command that loads the CLI (a bare --version is answered by the launcher alone). */
  const help = (dir: string) =>
    spawnSync(process.execPath, [join(dir, 'uplift.cjs'), '--help'], { encoding: 'utf8' });
  const expected = spawnSync(process.execPath, [cliPath, '--help'], {
    encoding: 'utf8',
  }).stdout.trim();

  it('leaves a cache after a first run without one, and uses it, unchanged, on the next', () => {
    const { dir, cache } = copyOfBundle();

    const first = help(dir);
    const made = cache();
    const bytes = made && readFileSync(join(dir, made));
    const second = help(dir);

    expect(first.stdout.trim(), first.stderr).toBe(expected);
    expect(first.stderr).toBe('');
    expect(made).toMatch(
      new RegExp(`^cli-[0-9a-f]{16}-${process.version}-${process.arch}\\.v8cache$`),
    );
    expect(second.stdout.trim()).toBe(expected);
    // An accepted cache is not written again.
    expect(readFileSync(join(dir, made ?? ''))).toEqual(bytes);
    rmSync(join(dir, '../..'), { recursive: true, force: true });
  });

  it.each([
    ['garbage', (b: Buffer) => Buffer.alloc(b.length, 0x5a)],
    // V8 checks a cache's header, not its bytes: this one bit aborted the process unchecked.
    [
      'one bit flipped near the end',
      (b: Buffer) => {
        const d = Buffer.from(b);
        d[d.length - 100] = (d[d.length - 100] ?? 0) ^ 1;
        return d;
      },
    ],
    ['cut short', (b: Buffer) => b.subarray(0, b.length >> 1)],
  ])('runs as usual on a damaged cache (%s), and replaces it', (_, damage) => {
    const { dir, cache } = copyOfBundle();
    help(dir);
    const name = cache() ?? '';
    const damaged = damage(readFileSync(join(dir, name)));
    writeFileSync(join(dir, name), damaged);

    const r = help(dir);

    expect(r.stdout.trim(), r.stderr).toBe(expected);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(dir, name)).equals(damaged)).toBe(false);
    rmSync(join(dir, '../..'), { recursive: true, force: true });
  });

  it('ships with the cache the build made, which the start accepts', () => {
    const shipped = readdirSync(join(repoRoot, 'dist/bundle')).filter((f) =>
      f.endsWith('.v8cache'),
    );
    const path = join(repoRoot, 'dist/bundle', shipped[0] ?? '-');
    const before = statSync(path).mtimeMs;

    const r = spawnSync(process.execPath, [bundlePath, '--help'], { encoding: 'utf8' });

    expect(shipped).toEqual([expect.stringContaining(`-${process.version}-`)]);
    expect(r.status).toBe(0);
    expect(statSync(path).mtimeMs).toBe(before);
  });
});
