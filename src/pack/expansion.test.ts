import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { craftPack, type RawEntry } from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { defaultMaxExpand, expansionFloor, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);

/**
 * A bomb as a compromised build signs it: the manifest honestly declares 20 GiB of zeros for a
 * payload of a few hundred bytes. Only the declared sizes matter (verification must refuse on
 * them before decoding), so the real payload stays tiny and the test fast.
 */
async function bomb(declared: number): Promise<Buffer> {
  const zeros: RawEntry = { name: 'lib/zeros', body: Buffer.alloc(4096) };
  return craftPack({
    key: key.privateKey,
    entries: [zeros],
    edit: (m) => {
      const f = m.files[0];
      if (f && f.action !== 'delete') f.size = declared;
      m.space = { stage: declared, growth: declared };
      m.payload.unpackedBytes = declared + 2048;
    },
  });
}

describe('a pack whose declared expansion is beyond the bound', () => {
  it('is refused before decoding, within a second or two, with nothing written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-bomb-'));
    const file = join(d, 'p.upk');
    writeFileSync(file, await bomb(20 * 2 ** 30));
    const before = await hashTree(d);
    const started = performance.now();

    const verifying = verifyPack(file, { trust, stageInto: join(d, 'stage') });

    await expect(verifying).rejects.toMatchObject({
      code: 'UPLIFT_PACK_EXPANSION',
      exitCode: 3,
      unchanged: true,
      location: { path: 'payload.unpackedBytes' },
    });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(existsSync(join(d, 'stage'))).toBe(false);
    expect(readdirSync(d)).toEqual(['p.upk']);
    expect((await hashTree(d)).hash).toBe(before.hash);
  });

  it('--max-expand raises the bound deliberately (then the payload itself is checked)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-bomb-'));
    const file = join(d, 'p.upk');
    const declared = expansionFloor + 1;
    writeFileSync(file, await bomb(declared));

    // One at a time: a second verification started before the first is awaited can reject with
    // no handler attached yet (an unhandled rejection that fails the run).
    await expect(verifyPack(file, { trust })).rejects.toMatchObject({
      code: 'UPLIFT_PACK_EXPANSION',
    });
    // Past the bound, the real payload disagrees with the declared size: refused by the payload check.
    await expect(verifyPack(file, { trust, maxExpand: 10 * declared })).rejects.not.toMatchObject({
      code: 'UPLIFT_PACK_EXPANSION',
    });
    expect(defaultMaxExpand).toBe(200);
  });
});
