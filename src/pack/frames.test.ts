import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compress, decompress } from 'zstd-napi';
import binding from 'zstd-napi/binding.js';
import {
  craftPack,
  type RawEntry,
  tarOf,
  writeReleaseTree,
} from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { FrameWriter, frameBytes } from './frames.ts';
import { buildPack, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Log-like text: compressible, different on every line. */
function text(lines: number, seed: string): string {
  let s = '';
  for (let i = 0; i < lines; i++)
    s += `2025-01-0${i % 9} 12:${String(i % 60).padStart(2, '0')} INFO ${seed} transfer ${i * 7919} ok\n`;
  return s;
}

/**
 * Two release trees; the second holds `randomMiB` MiB of incompressible files and some text, so
 * its full pack spans several frames (and, from 16 MiB, is decoded on the worker thread).
 */
function trees(randomMiB: number) {
  const d = mkdtempSync(join(tmpdir(), 'uplift-pack-frames-'));
  const a = writeReleaseTree(join(d, 'a'), '5.4 GA', { 'conf/app.conf': 'port=1\n' });
  const files: Record<string, string | Buffer> = { 'conf/app.conf': 'port=2\n' };
  for (let i = 0; i < randomMiB; i++) files[`lib/blob-${i}.jar`] = randomBytes(1 << 20);
  for (let i = 0; i < 150; i++) files[`logs/day-${i}.log`] = text(40 + i, `n${i}`);
  files['logs/big.log'] = text(30_000, 'big');
  const b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', files);
  return { d, a, b };
}

/** The compressed payload of a pack file: what follows the header, manifest and signature. */
function payloadOf(pack: Buffer): Buffer {
  return pack.subarray(20 + pack.readUInt32BE(12) + pack.readUInt32BE(16));
}

/** Each frame's offset in the payload and the content size its header declares. */
function framesOf(payload: Buffer): { at: number; size: number | null }[] {
  const out: { at: number; size: number | null }[] = [];
  for (let at = 0; at < payload.length; ) {
    const rest = payload.subarray(at);
    out.push({ at, size: binding.getFrameContentSize(rest) });
    at += binding.findFrameCompressedSize(rest);
  }
  return out;
}

describe('FrameWriter', () => {
  it('writes the same frames, in order at its offset, when it flushes to disk after every write', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-frames-'));
    const file = join(d, 'payload');
    const input = Buffer.concat([randomBytes(2 * frameBytes), Buffer.from(text(90_000, 'f'))]);
    const written: Buffer[] = [];
    for (const flushEvery of [1, 1 << 30]) {
      const fd = openSync(file, 'w+');
      try {
        const frames = new FrameWriter(fd, { at: 100, level: 3, workers: 2, flushEvery });
        try {
          for (let at = 0; at < input.length; at += frameBytes) {
            const buf = await frames.take();
            const n = input.copy(buf, 0, at, at + frameBytes);
            await frames.put(buf, n);
          }
          const r = await frames.end();
          const all = readFileSync(file);
          expect(all.length).toBe(100 + r.bytes);
          expect(r.sha256).toBe(sha(all.subarray(100)));
          written.push(all.subarray(100));
        } finally {
          await frames.close();
        }
      } finally {
        closeSync(fd);
      }
    }
    const [flushed, unflushed] = written as [Buffer, Buffer];
    expect(flushed.equals(unflushed)).toBe(true);
    expect(framesOf(flushed)).toHaveLength(Math.ceil(input.length / frameBytes));
    expect(decompress(flushed).equals(input)).toBe(true);
  });
});

describe('pack build in frames', () => {
  it('gives byte-identical packs with 1, 2 and 8 workers, cut into frames of the fixed size', async () => {
    const t = trees(18);

    const packs: Buffer[] = [];
    for (const workers of [1, 2, 8]) {
      const r = await buildPack({
        fromTree: t.a,
        toTree: t.b,
        platform: 'linux-x86-64',
        key: key.privateKey,
        out: join(t.d, `w${workers}.upk`),
        workers,
      });
      packs.push(readFileSync(r.file));
    }

    const [one, two, eight] = packs as [Buffer, Buffer, Buffer];
    expect(sha(two)).toBe(sha(one));
    expect(sha(eight)).toBe(sha(one));
    const v = await verifyPack(join(t.d, 'w8.upk'), { trust });
    const frames = framesOf(payloadOf(eight));
    const unpacked = v.manifest.payload.unpackedBytes;
    expect(frames.length).toBe(Math.ceil(unpacked / frameBytes));
    expect(frames.length).toBeGreaterThanOrEqual(5);
    expect(frames.map((f) => f.size)).toEqual(
      frames.map((_, i) => Math.min(frameBytes, unpacked - i * frameBytes)),
    );
    expect(v.sha256).toBe(sha(one));
  });
});

describe('verifyPack should refuse and not write if', () => {
  it.each([
    ['inline (under 16 MiB)', 6],
    ['on the worker thread', 18],
  ])('a frame in the middle is damaged, naming the frame (%s)', async (_how, randomMiB) => {
    const t = trees(randomMiB);
    const built = await buildPack({
      fromTree: t.a,
      toTree: t.b,
      platform: 'linux-x86-64',
      key: key.privateKey,
      out: join(t.d, 'p.upk'),
      workers: 2,
    });
    const pack = readFileSync(built.file);
    const payloadAt = pack.length - payloadOf(pack).length;
    const frames = framesOf(payloadOf(pack));
    const middle = frames[Math.floor(frames.length / 2)] as { at: number };
    // The frame's magic number overwritten: the decoder cannot read the frame at all.
    pack.writeUInt32LE(0xdeadbeef, payloadAt + middle.at);
    const file = join(t.d, 'damaged.upk');
    writeFileSync(file, pack);
    const before = await hashTree(t.d);

    const verifying = verifyPack(file, { trust, stageInto: join(t.d, 'stage') });

    const n = Math.floor(frames.length / 2);
    await expect(verifying).rejects.toMatchObject({
      code: 'UPLIFT_PACK_CORRUPT',
      unchanged: true,
      message: expect.stringContaining(`frame ${n} (at payload byte ${middle.at}) is damaged`),
    });
    expect((await hashTree(t.d)).hash).toBe(before.hash);
  });

  it.each([
    ['inline (under 16 MiB)', 1 << 20],
    ['on the worker thread', 17 << 20],
  ])(
    'a frame declares more than the manifest leaves, before it is decoded (%s)',
    async (_how, first) => {
      const entries: RawEntry[] = [
        { name: 'lib/a.bin', body: randomBytes(first) },
        { name: 'lib/zeros', body: Buffer.alloc(8 << 20) },
      ];
      const tar = await tarOf(entries);
      // Two frames: the first file's bytes, then the rest (8 MiB of zeros and the tar's end).
      const cut = 512 + first;
      const frame = (b: Buffer) => compress(b, { compressionLevel: 1, checksumFlag: true });
      const payload = Buffer.concat([frame(tar.subarray(0, cut)), frame(tar.subarray(cut))]);
      const d = mkdtempSync(join(tmpdir(), 'uplift-pack-frames-'));
      const file = join(d, 'p.upk');
      writeFileSync(
        file,
        await craftPack({
          key: key.privateKey,
          entries,
          payload: () => payload,
          edit: (m) => {
            m.payload.bytes = payload.length;
            m.payload.sha256 = sha(payload);
            // Signed, honest about the rest, but leaving 1 MiB for the second frame.
            m.payload.unpackedBytes = cut + (1 << 20);
          },
        }),
      );

      const verifying = verifyPack(file, { trust, stageInto: join(d, 'stage') });

      await expect(verifying).rejects.toMatchObject({
        code: 'UPLIFT_PACK_SIZE_EXCEEDED',
        message: expect.stringContaining(
          `frame 1 (at payload byte ${payload.length - frame(tar.subarray(cut)).length}) declares ${tar.length - cut} unpacked bytes`,
        ),
      });
      expect(readdirSync(d)).toEqual(['p.upk']);
    },
  );
});
