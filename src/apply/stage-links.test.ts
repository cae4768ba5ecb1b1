import { createHash } from 'node:crypto';
import {
  appendFileSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deltaPackAndInstall } from '../../test/util/delta-install.ts';
import { put } from '../../test/util/tree-fixture.ts';
import { verifyPack } from '../pack/index.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { walkSync } from '../util/index.ts';
import { changedSinceStaging, stageTree } from './stage.ts';
import type { VendorManifest } from './tree.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);
const manifestPath = '.vendor/manifest.json';
const configGlobs = ['conf/**'];

let d: string;

beforeEach(async () => {
  d = await mkdtemp(join(tmpdir(), 'uplift-stage-links-'));
});

afterEach(async () => {
  await rm(d, { recursive: true, force: true });
});

/** Deterministic bytes: text for even files, binary (NUL bytes) for odd ones. */
function body(i: number, version: string): string {
  const line = `${version} file ${i} `.repeat(1 + (i % 37) * 40);
  return i % 2 === 0 ? `${line}\n` : `\0${line}\0`;
}

/**
 * Two releases of 160 program files (modes 0644 and 0755) and a configuration file; the second
 * changes 16 of them, adds 6 and drops 4. A delta pack between them, and an installation of the
 * first in which the customer edited one program file and one configuration file.
 */
async function fixture() {
  const a = join(d, 'src-a');
  const b = join(d, 'src-b');
  for (const [dir, version] of [
    [a, '5.4 GA'],
    [b, '5.4 Patch 2'],
  ] as const) {
    put(dir, 'version', `${version}\n`);
    put(dir, 'conf/app.properties', `a=1\n${version === '5.4 GA' ? '' : 'b=2\n'}`);
  }
  for (let i = 0; i < 160; i++) {
    const mode = i % 3 === 0 ? 0o755 : 0o644;
    const rel = `lib/m${i % 8}/f${i}.dat`;
    put(a, rel, body(i, '1.0'), mode);
    if (i % 40 === 39) continue; // dropped by the new version
    put(b, rel, body(i, i % 10 === 0 ? '1.1' : '1.0'), mode);
  }
  for (let i = 0; i < 6; i++) put(b, `lib/new/n${i}.dat`, body(i, '1.1'));
  const { pack, install } = await deltaPackAndInstall({
    d,
    a,
    b,
    from: '5.4 GA',
    to: '5.4 Patch 2',
    key: key.privateKey,
    manifestPath,
  });
  put(install, 'lib/m1/f1.dat', 'patched by the customer\n');
  put(install, 'conf/app.properties', 'a=1\nc=3\n');
  const oldVendor = JSON.parse(readFileSync(join(install, manifestPath), 'utf8')) as VendorManifest;
  /** The pack's payload staged afresh (staging moves the changed files out of it). */
  const stageInput = async (name: string, linkUnchanged: boolean) => {
    const packDir = join(d, `pack-${name}`);
    const verified = await verifyPack(pack.file, { trust, stageInto: packDir });
    return {
      install,
      packDir,
      tree: join(d, `tree-${name}`),
      manifest: verified.manifest,
      vendorManifestPath: manifestPath,
      oldVendor,
      pristine: join(d, 'a/tree'),
      configGlobs,
      linkUnchanged,
    };
  };
  return { install, stageInput };
}

/** Every entry: type, mode and, for files, the SHA-256 of the bytes. */
function describeTree(tree: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of walkSync(tree)) {
    const st = lstatSync(join(tree, e.path));
    const mode = (st.mode & 0o7777).toString(8);
    out[e.path] =
      e.type === 'file'
        ? `file ${mode} ${createHash('sha256')
            .update(readFileSync(join(tree, e.path)))
            .digest('hex')}`
        : `${e.type} ${mode}`;
  }
  return out;
}

describe('staging with parallel writes and hard links', () => {
  it('builds the same tree as copying, linking only program files both sides left as shipped', async () => {
    const f = await fixture();
    const copied = await f.stageInput('copied', false);
    const linked = await f.stageInput('linked', true);

    const a = await stageTree(copied);
    const b = await stageTree(linked);

    // Bytes, modes, types of every entry; vendor file mtimes are no part of the contract (a copy
    // gets the time of the copy, a link keeps the installed file's).
    expect(describeTree(linked.tree)).toEqual(describeTree(copied.tree));
    expect(b.counts).toEqual(a.counts);
    expect(b.merges).toEqual(a.merges);
    expect(b.newVendor).toEqual(a.newVendor);
    const shared = (p: string, tree: string) =>
      lstatSync(join(tree, p)).ino === lstatSync(join(f.install, p)).ino;
    const linkedPaths = b.inputs.filter((i) => i.linked).map((i) => i.path);
    // 160 program files, less 16 changed, 4 dropped and 1 edited by the customer.
    expect(linkedPaths).toHaveLength(139);
    for (const p of linkedPaths) expect(shared(p, linked.tree), p).toBe(true);
    expect(a.inputs.some((i) => i.linked)).toBe(false);
    expect(
      readdirSync(join(copied.tree, 'lib/m0')).some((n) => shared(`lib/m0/${n}`, copied.tree)),
    ).toBe(false);
    // Never configuration (migrations and customers write it in place), never a customer's edit.
    expect(shared('conf/app.properties', linked.tree)).toBe(false);
    expect(shared('lib/m1/f1.dat', linked.tree)).toBe(false);
    expect(shared('lib/m2/f10.dat', linked.tree)).toBe(false); // changed by the new version: from the pack
  });

  it('at the switch, a linked file written in place is carried, one replaced or removed is a change', async () => {
    const f = await fixture();
    const input = await f.stageInput('linked', true);
    const r = await stageTree(input);
    const check = () => changedSinceStaging(f.install, r.inputs, r.inputsReadAt);
    expect(await check()).toEqual([]);

    appendFileSync(join(f.install, 'lib/m2/f2.dat'), 'appended in place\n');
    writeFileSync(join(d, 'swap'), 'replaced\n');
    renameSync(join(d, 'swap'), join(f.install, 'lib/m3/f3.dat'));
    rmSync(join(f.install, 'lib/m4/f4.dat'));

    expect(await check()).toEqual(['lib/m3/f3.dat', 'lib/m4/f4.dat']);
    expect(readFileSync(join(input.tree, 'lib/m2/f2.dat'), 'utf8')).toContain('appended in place');
  });

  it('a write that fails mid-staging stops it with no write still running into the tree', async () => {
    const f = await fixture();
    const input = await f.stageInput('failing', true);
    rmSync(join(input.packDir, 'lib/m0/f120.dat'));

    await expect(stageTree(input)).rejects.toMatchObject({ code: 'ENOENT' });

    const count = () => [...walkSync(input.tree)].length;
    const before = count();
    await sleep(200);
    expect(count()).toBe(before);
  });
});
