import {
  appendFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walk } from '../util/index.ts';
import { type CarryOptions, carryChangesSince, carryCustomerEntries } from './carry.ts';
import { changedSinceStaging, type StagedInput } from './stage.ts';
import { hashFile } from './tree.ts';

let dir: string;
let o: CarryOptions;

const put = (root: string, rel: string, body: string, mode = 0o644) => {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), body, { mode });
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-carry-'));
  const install = join(dir, 'install');
  const tree = join(dir, 'tree');
  // Vendor files (staging decided them) and the customer's entries.
  put(install, 'bin/app', 'old app', 0o755);
  put(install, '.vendor.json', '{}');
  put(install, 'data/alice/a.bin', 'upload a');
  put(install, 'data/bob/b.bin', 'upload b');
  put(install, 'var/db/app.db', 'db pages');
  put(install, 'var/log/app.log', 'line 1\n', 0o640);
  put(install, 'custom/notes.txt', 'notes');
  symlinkSync('app.log', join(install, 'var/log/current'));
  chmodSync(join(install, 'custom'), 0o750);
  put(tree, 'bin/app', 'new app', 0o755);
  put(tree, '.vendor.json', '{"new":true}');
  o = {
    install,
    tree,
    vendorPaths: new Set(['bin/app']),
    vendorManifestPath: '.vendor.json',
    linkGlobs: ['data/**'],
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every entry outside the vendor paths: type, mode, bytes or link target. */
async function customerView(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of walk(root)) {
    if (o.vendorPaths.has(e.path) || e.path === o.vendorManifestPath) continue;
    const abs = join(root, e.path);
    const what =
      e.type === 'file'
        ? readFileSync(abs, 'utf8')
        : e.type === 'symlink'
          ? `-> ${readlinkSync(abs)}`
          : '';
    out[e.path] = `${e.type} ${e.mode.toString(8)} ${what}`;
  }
  return out;
}

const ino = (p: string) => lstatSync(p).ino;

describe('carrying customer entries: listed at staging, differences at the switch', () => {
  it('staging copies with modes and mtimes, lists data/** for the switch to link, leaves vendor files alone', async () => {
    const c = await carryCustomerEntries(o);

    const staged = await customerView(o.tree);
    const { 'data/alice/a.bin': _a, 'data/bob/b.bin': _b, ...rest } = await customerView(o.install);
    expect(staged).toEqual(rest);
    expect(ino(join(o.tree, 'var/db/app.db'))).not.toBe(ino(join(o.install, 'var/db/app.db')));
    const mtime = (root: string) => lstatSync(join(root, 'var/log/app.log')).mtimeMs;
    expect(Math.abs(mtime(o.tree) - mtime(o.install))).toBeLessThan(0.01);
    expect(readFileSync(join(o.tree, 'bin/app'), 'utf8')).toBe('new app');
    expect(readFileSync(join(o.tree, '.vendor.json'), 'utf8')).toBe('{"new":true}');
    expect(c.entries.get('var/db/app.db')?.how).toBe('copy');
    expect(c.entries.get('data/bob/b.bin')?.how).toBe('link');
    expect(c.entries.has('bin/app')).toBe(false);
  });

  it('the switch carries what changed since staging: written in place, replaced, new, removed', async () => {
    const c = await carryCustomerEntries(o);
    // As if the listing were long after every write above: only a moved stat counts as a change.
    c.listedAt = Date.now() + 10_000;
    const { install } = o;
    appendFileSync(join(install, 'var/log/app.log'), 'line 2\n');
    writeFileSync(join(install, 'data/alice/a.tmp'), 'upload a, second version');
    renameSync(join(install, 'data/alice/a.tmp'), join(install, 'data/alice/a.bin'));
    unlinkSync(join(install, 'data/bob/b.bin'));
    put(install, 'data/carol/in/c.bin', 'upload c');
    rmSync(join(install, 'custom'), { recursive: true });
    put(install, 'var/run/app.pid', '123');
    chmodSync(join(install, 'var/db'), 0o700);

    const r = carryChangesSince(o, c);

    expect(await customerView(o.tree)).toEqual(await customerView(install));
    for (const f of ['data/alice/a.bin', 'data/carol/in/c.bin'])
      expect(ino(join(o.tree, f))).toBe(ino(join(install, f)));
    // Copied: app.log (appended) and app.pid (new); linked: a.bin (replaced) and c.bin (new).
    expect(r).toMatchObject({ copied: 2, linked: 2, symlinks: 0 });
    // Removed: notes.txt and the stale copy of app.log.
    expect(r.removed).toBe(2);
    expect(readFileSync(join(o.tree, 'bin/app'), 'utf8')).toBe('new app');
  });

  it('an unchanged installation costs the switch only the links of the listed uploads', async () => {
    const c = await carryCustomerEntries(o);
    c.listedAt = Date.now() + 10_000;
    const before = ino(join(o.tree, 'var/db/app.db'));

    const r = carryChangesSince(o, c);

    expect(r).toMatchObject({ copied: 0, linked: 2, symlinks: 0, directories: 0, removed: 0 });
    expect(ino(join(o.tree, 'var/db/app.db'))).toBe(before);
    expect(await customerView(o.tree)).toEqual(await customerView(o.install));
  });

  it('copies touched around the listing are copied again, whatever their stat says', async () => {
    // Everything here was written just now, within the filesystem clock's reach of the listing.
    const c = await carryCustomerEntries(o);

    const r = carryChangesSince(o, c);

    expect(r.copied).toBe(3);
    expect(await customerView(o.tree)).toEqual(await customerView(o.install));
  });
});

describe('changedSinceStaging', () => {
  async function inputOf(path: string): Promise<StagedInput> {
    const st = lstatSync(join(o.install, path));
    return {
      path,
      sha256: await hashFile(join(o.install, path)),
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      ino: st.ino,
    };
  }

  it('names edited, removed and appeared inputs, and no unchanged one', async () => {
    const inputs = [
      await inputOf('bin/app'),
      await inputOf('custom/notes.txt'),
      await inputOf('var/db/app.db'),
      { path: 'conf/new.yaml', sha256: null, size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 },
    ];
    const later = Date.now() + 10_000;
    expect(await changedSinceStaging(o.install, inputs, later)).toEqual([]);
    writeFileSync(join(o.install, 'bin/app'), 'old apq', { mode: 0o755 });
    unlinkSync(join(o.install, 'custom/notes.txt'));
    put(o.install, 'conf/new.yaml', 'a: 1');

    expect(await changedSinceStaging(o.install, inputs, later)).toEqual([
      'bin/app',
      'custom/notes.txt',
      'conf/new.yaml',
    ]);
  });

  it('hashes an input read around the staging time even when its stat is the same', async () => {
    const inputs = [await inputOf('var/db/app.db')];
    // The recorded hash is stale but the stat matches: only a content check can tell.
    const stale = { ...(inputs[0] as StagedInput), sha256: 'f'.repeat(64) };
    expect(await changedSinceStaging(o.install, [stale], Date.now() + 10_000)).toEqual([]);
    expect(await changedSinceStaging(o.install, [stale], Date.now())).toEqual(['var/db/app.db']);
  });
});
