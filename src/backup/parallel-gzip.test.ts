import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createParallelGzip } from './parallel-gzip.ts';

const random = (n: number) =>
  createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16)).update(Buffer.alloc(n));
/** Log-like lines that vary, so gzip does real work on them (not one repeated line). */
function text(n: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < n; i++) {
    const line = `2025-01-01T00:${String(i % 60).padStart(2, '0')}:00Z INFO upload account=acct${(i * 7919) % 1000} bytes=${(i * 104729) % 1_000_000}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, n);
}

async function compress(input: Buffer, chunk = 100_000, workers?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
    })(),
  );
  await pipeline(
    source,
    createParallelGzip({
      level: 1,
      blockSize: 1 << 20,
      ...(workers === undefined ? { inFlight: 3 } : { workers }),
    }),
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

describe('parallel gzip', () => {
  it.each`
    what                          | input
    ${'empty input'}              | ${Buffer.alloc(0)}
    ${'less than a block'}        | ${text(1000)}
    ${'text over several blocks'} | ${text(5 << 20)}
    ${'text and random mixed'}    | ${Buffer.concat([text(700_000), random(1_500_000), text(300_000), random(70_000), text(2_000_000)])}
  `('writes plain gzip that gunzip and gzip -t read back exactly ($what)', async ({ input }) => {
    const out = await compress(input);

    expect(gunzipSync(out).equals(input)).toBe(true);
    expect(spawnSync('gzip', ['-t'], { input: out }).status).toBe(0);
  });

  it('writes the same bytes with 1, 2 and 5 compressing threads', async () => {
    const input = Buffer.concat([text(3_000_000), random(2_500_000), text(1_200_000)]);

    const [one, two, five] = [
      await compress(input, 300_000, 1),
      await compress(input, 300_000, 2),
      await compress(input, 300_000, 5),
    ];

    expect(two.equals(one)).toBe(true);
    expect(five.equals(one)).toBe(true);
    expect(gunzipSync(one).equals(input)).toBe(true);
  });

  it('stores random data instead of compressing it, and compresses text as well as one gzip stream', async () => {
    const noise = random(4 << 20);
    const words = text(4 << 20);

    const storedOut = await compress(noise);
    const textOut = await compress(words);

    expect(storedOut.length / noise.length).toBeGreaterThan(1);
    expect(storedOut.length / noise.length).toBeLessThan(1.001);
    expect(textOut.length).toBeLessThan(gzipSync(words, { level: 1 }).length * 1.01);
  });
});
