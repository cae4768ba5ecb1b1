import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deltaPackAndInstall } from '../../test/util/delta-install.ts';
import { put } from '../../test/util/tree-fixture.ts';
import { buildPack, makeReleaseTree, verifyPack } from '../pack/index.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { walkSync } from '../util/index.ts';
import { type CarryOptions, carryChangesSince, carryCustomerEntries } from './carry.ts';
import { changedSinceStaging, type StageResult, stageTree } from './stage.ts';
import type { VendorManifest } from './tree.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);
const manifestPath = '.vendor/manifest.json';

let d: string;

beforeEach(async () => {
  d = await mkdtemp(join(tmpdir(), 'uplift-stage-'));
});

afterEach(async () => {
  await rm(d, { recursive: true, force: true });
});

/**
 * Release trees of two skiff versions (made by makeReleaseTree from folders), a delta pack
 * between them, and an installation of the first with its vendor manifest.
 */
async function fixture(customize: (install: string) => void) {
  const a = join(d, 'src-a');
  put(a, 'version', '5.4 GA\n');
  put(a, 'lib/cli.js', 'old cli\n', 0o755);
  mkdirSync(join(a, 'bin'));
  symlinkSync('../lib/cli.js', join(a, 'bin/cli'));
  symlinkSync('../lib/cli.js', join(a, 'bin/gone'));
  symlinkSync('../lib/cli.js', join(a, 'bin/mine'));
  put(a, 'plugins/old/a.jar', 'a');
  put(a, 'docs/kept/v.txt', 'vendor doc');
  put(a, 'tools/x.jar', 'x');
  mkdirSync(join(a, 'cache'));
  mkdirSync(join(a, 'logs'));
  const b = join(d, 'src-b');
  put(b, 'version', '5.4 Patch 2\n');
  put(b, 'lib/cli.js', 'new cli\n', 0o755);
  put(b, 'lib/v2/cli.js', 'v2\n', 0o755);
  mkdirSync(join(b, 'bin'));
  symlinkSync('../lib/v2/cli.js', join(b, 'bin/cli'));
  symlinkSync('lib/v2', join(b, 'current'));
  mkdirSync(join(b, 'var/log'), { recursive: true });
  const { pack, install } = await deltaPackAndInstall({
    d,
    a,
    b,
    from: '5.4 GA',
    to: '5.4 Patch 2',
    key: key.privateKey,
    manifestPath,
  });
  customize(install);
  const verified = await verifyPack(pack.file, { trust, stageInto: join(d, 'pack') });
  const oldVendor = JSON.parse(readFileSync(join(install, manifestPath), 'utf8')) as VendorManifest;
  return { install, manifest: verified.manifest, oldVendor };
}

/** As the uplift-pack method does it: stage, then carry with every old and new vendor path left out. */
async function stage(
  f: Awaited<ReturnType<typeof fixture>>,
  paths: { config?: string[]; generated?: string[] } = {},
) {
  const tree = join(d, 'tree');
  const staged = await stageTree({
    install: f.install,
    packDir: join(d, 'pack'),
    tree,
    manifest: f.manifest,
    vendorManifestPath: manifestPath,
    oldVendor: f.oldVendor,
    ...(paths.config ? { configGlobs: paths.config } : {}),
  });
  const vendorPaths = new Set<string>(staged.inputs.map((i) => i.path));
  for (const file of staged.newVendor.files) vendorPaths.add(file.path);
  const carry: CarryOptions = {
    install: f.install,
    tree,
    vendorPaths,
    vendorManifestPath: manifestPath,
    linkGlobs: [],
    ...(paths.generated ? { dropGlobs: paths.generated } : {}),
  };
  const carried = await carryCustomerEntries(carry);
  return { tree, staged, carry, carried };
}

/** Paths of the tree, `path/` for directories and `path -> target` for links. */
function listing(tree: string): string[] {
  return [...walkSync(tree)].map((e) =>
    e.type === 'directory'
      ? `${e.path}/`
      : e.type === 'symlink'
        ? `${e.path} -> ${readlinkSync(join(tree, e.path))}`
        : e.path,
  );
}

/** Links whose target is not there. */
function dangling(tree: string): string[] {
  return [...walkSync(tree)]
    .filter((e) => e.type === 'symlink')
    .filter((e) => !existsSync(join(tree, e.path)))
    .map((e) => e.path);
}

describe('stageTree and the carry', () => {
  it('drop what the new version no longer ships and leave no empty directory or dangling link', async () => {
    const f = await fixture((install) => {
      put(install, 'docs/kept/custom.txt', 'mine');
      put(install, 'logs/app.log', 'line\n');
      mkdirSync(join(install, 'tools/mine'));
      put(install, 'custom/notes.txt', 'notes');
      rmSync(join(install, 'bin/mine'));
      symlinkSync('../custom/notes.txt', join(install, 'bin/mine'));
    });

    const s = await stage(f);
    carryChangesSince(s.carry, s.carried);

    expect(listing(s.tree)).toEqual([
      '.vendor/',
      '.vendor/manifest.json',
      'bin/',
      'bin/cli -> ../lib/v2/cli.js',
      'bin/mine -> ../custom/notes.txt',
      'current -> lib/v2',
      'custom/',
      'custom/notes.txt',
      'docs/',
      'docs/kept/',
      'docs/kept/custom.txt',
      'lib/',
      'lib/cli.js',
      'lib/v2/',
      'lib/v2/cli.js',
      'logs/',
      'logs/app.log',
      'tools/',
      'tools/mine/',
      'var/',
      'var/log/',
      'version',
    ]);
    expect(dangling(s.tree)).toEqual([]);
    expect(s.staged.merges.map((m) => [m.path, m.outcome])).toContainEqual([
      'bin/mine',
      'orphaned',
    ]);
    const vendor = JSON.parse(readFileSync(join(s.tree, manifestPath), 'utf8')) as VendorManifest;
    expect(vendor.symlinks).toEqual([
      { path: 'bin/cli', target: '../lib/v2/cli.js' },
      { path: 'current', target: 'lib/v2' },
    ]);
    expect(vendor.directories).toEqual([{ path: 'var/log', mode: 0o755 }]);
    expect(vendor.files.map((x) => x.path)).toEqual(['lib/cli.js', 'lib/v2/cli.js', 'version']);
  });

  it('at the switch, a dropped directory a customer file just went into is made, and one it left is removed', async () => {
    const f = await fixture((install) => {
      put(install, 'logs/app.log', 'line\n');
    });
    const s = await stage(f);

    rmSync(join(f.install, 'logs/app.log'));
    put(f.install, 'cache/new.txt', 'written during staging');
    put(f.install, 'plugins/old/late.txt', 'also');
    carryChangesSince(s.carry, s.carried);

    const after = listing(s.tree);
    expect(after).toContain('cache/new.txt');
    expect(after).toContain('plugins/old/late.txt');
    expect(after).not.toContain('plugins/old/a.jar');
    expect(after.filter((p) => p.startsWith('logs'))).toEqual([]);
    expect(after.filter((p) => p.startsWith('docs') || p.startsWith('tools'))).toEqual([]);
  });

  it('keeps a retargeted link whose target the vendor did not change, and notices a link changed after staging', async () => {
    const f = await fixture((install) => {
      rmSync(join(install, 'bin/cli'));
      symlinkSync('../lib/mine.js', join(install, 'bin/cli'));
    });
    const s = await stage(f);
    const inputs = (s.staged as StageResult).inputs;

    expect(readlinkSync(join(s.tree, 'bin/cli'))).toBe('../lib/v2/cli.js');
    expect(s.staged.merges.find((m) => m.path === 'bin/cli')?.outcome).toBe('take-theirs');
    expect(await changedSinceStaging(f.install, inputs, s.staged.inputsReadAt)).toEqual([]);
    rmSync(join(f.install, 'bin/gone'));
    expect(await changedSinceStaging(f.install, inputs, s.staged.inputsReadAt)).toEqual([
      'bin/gone',
    ]);
    expect(lstatSync(join(s.tree, 'var/log')).isDirectory()).toBe(true);
    expect(readdirSync(join(s.tree, 'var/log'))).toEqual([]);
  });

  it("merges a customer's change only in configuration (paths.config): an edited program file the new version changes is a conflict", async () => {
    const f = await fixture((install) => {
      put(install, 'lib/cli.js', 'old cli, patched by the customer\n', 0o755);
    });

    const refused = await stage(f, { config: ['conf/**'] });

    expect(refused.staged.conflicts.map((c) => c.path)).toEqual(['lib/cli.js']);
    expect(refused.staged.conflicts[0]?.conflicts[0]?.message).toContain('paths.config');
  });

  it('does not carry what the product generates at run time (paths.generated), but keeps its folders', async () => {
    const f = await fixture((install) => {
      put(install, 'logs/run/server.pid', '123\n');
      put(install, 'logs/app.log', 'kept\n');
    });

    const { tree } = await stage(f, { generated: ['logs/run/**'] });

    expect(existsSync(join(tree, 'logs/run'))).toBe(true);
    expect(existsSync(join(tree, 'logs/run/server.pid'))).toBe(false);
    expect(readFileSync(join(tree, 'logs/app.log'), 'utf8')).toBe('kept\n');
  });
});

describe('stageTree merge bases', () => {
  /** A configuration file both the customer (c=3) and the new version (b=2) changed. */
  async function bothChanged(sub = 'one') {
    const d2 = join(d, sub);
    const a = join(d2, 'src-a');
    put(a, 'version', '5.4 GA\n');
    put(a, 'conf/x.properties', '# version 1\na=1\n');
    const b = join(d2, 'src-b');
    put(b, 'version', '5.4 Patch 2\n');
    put(b, 'conf/x.properties', '# version 2\na=1\nb=2\n');
    const opts = { product: 'skiff', platform: 'linux-x86-64' };
    makeReleaseTree({ ...opts, dir: a, version: '5.4 GA', out: join(d2, 'a') });
    makeReleaseTree({ ...opts, dir: b, version: '5.4 Patch 2', out: join(d2, 'b') });
    const pack = await buildPack({
      fromTree: join(d2, 'a'),
      toTree: join(d2, 'b'),
      platform: 'linux-x86-64',
      delta: true,
      key: key.privateKey,
      out: join(d2, 'p.upk'),
    });
    const install = join(d2, 'install');
    cpSync(join(d2, 'a/tree'), install, { recursive: true });
    put(install, 'conf/x.properties', '# version 1\na=1\nc=3\n');
    const verified = await verifyPack(pack.file, { trust, stageInto: join(d2, 'pack') });
    const oldVendor = JSON.parse(
      readFileSync(join(d2, 'a/manifest.json'), 'utf8'),
    ) as VendorManifest;
    return {
      install,
      packDir: join(d2, 'pack'),
      tree: join(d2, 'tree'),
      manifest: verified.manifest,
      vendorManifestPath: manifestPath,
      oldVendor,
    };
  }

  it('without a base: a conflict whose proposed file keeps the customer’s keys and adds the new ones', async () => {
    const input = await bothChanged();

    const r = await stageTree(input);

    expect(r.missingBase).toEqual(['conf/x.properties']);
    const proposed = r.conflicts[0]?.content?.toString('utf8') ?? '';
    expect(proposed).toContain('c=3');
    expect(proposed).toContain('b=2');
  });

  it('makes a base once, on need, and uses only files whose hash the vendor manifest records', async () => {
    const input = await bothChanged();
    const edited = join(d, 'edited');
    cpSync(join(d, 'one/a/tree'), edited, { recursive: true });
    put(edited, 'conf/x.properties', '# version 1\na=9\n');
    let calls = 0;

    const wrong = await stageTree({
      ...input,
      makePristine: async () => {
        calls++;
        return edited;
      },
    });
    const again = await bothChanged('two');
    const right = await stageTree({
      ...again,
      makePristine: async () => join(d, 'two/a/tree'),
    });

    expect(calls).toBe(1);
    expect(wrong.missingBase).toEqual(['conf/x.properties']);
    expect(right.conflicts).toEqual([]);
    expect(readFileSync(join(again.tree, 'conf/x.properties'), 'utf8')).toBe(
      '# version 1\na=1\nb=2\nc=3\n',
    );
  });
});
