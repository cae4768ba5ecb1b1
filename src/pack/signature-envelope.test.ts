import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, base, craftPack } from '../../test/util/pack-assemble.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { inspectPack, verifyPack } from './index.ts';

/**
 * Every byte of a pack is covered: the signature envelope (`{"keyid":…,"sig":…}`) has one
 * encoding, so padding it changes the file's hash and must not verify. The signature itself
 * covers the exact manifest bytes, and the header is fixed, so this closes the last gap.
 */
const key = generateKeyPair();
const entries = [{ name: 'version', body: '5.4 Patch 2\n' }];

/** The pack with its envelope bytes replaced by `envelope(parsed, raw)`. */
async function withEnvelope(
  envelope: (sig: { keyid: string; sig: string }, raw: string) => string,
) {
  const pack = await craftPack({ key: key.privateKey, entries });
  const m = pack.readUInt32BE(12);
  const s = pack.readUInt32BE(16);
  const raw = pack.subarray(20 + m, 20 + m + s).toString('utf8');
  return assemble(
    pack.subarray(20, 20 + m),
    Buffer.from(envelope(JSON.parse(raw), raw)),
    pack.subarray(20 + m + s),
  );
}

describe('the pack signature envelope', () => {
  it.each([
    ['padded with spaces', (e: { keyid: string; sig: string }) => JSON.stringify(e, null, 1)],
    ['with a trailing newline', (_e: unknown, raw: string) => `${raw}\n`],
    [
      'with its keys the other way round',
      (e: { keyid: string; sig: string }) => JSON.stringify({ sig: e.sig, keyid: e.keyid }),
    ],
  ])('is refused %s, naming the file and the offset', async (_how, envelope) => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-envelope-'));
    const file = join(d, 'p.upk');
    writeFileSync(file, await withEnvelope(envelope));
    const m = (await craftPack({ key: key.privateKey, entries })).readUInt32BE(12);

    const err = await verifyPack(file, {
      trust: trustOf([key.publicKey]),
      install: { product: 'skiff', version: base.from, platform: base.platform },
    }).catch((e: unknown) => e);
    const inspected = await inspectPack(file).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_PACK_SIGNATURE_NOT_CANONICAL' });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(new RegExp(`offset ${20 + m}\\b|byte ${20 + m}`));
    expect(inspected).toMatchObject({ code: 'UPLIFT_PACK_SIGNATURE_NOT_CANONICAL' });
  });

  it('verifies as built (the canonical encoding)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-envelope-'));
    const file = join(d, 'p.upk');
    writeFileSync(file, await withEnvelope((_e, raw) => raw));

    const r = await verifyPack(file, {
      trust: trustOf([key.publicKey]),
      install: { product: 'skiff', version: base.from, platform: base.platform },
    });

    expect(r.manifest.to).toBe(base.to);
  });
});
