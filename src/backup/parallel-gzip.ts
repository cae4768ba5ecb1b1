import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  level: number;
  /** Input bytes per block. */
  blockSize?: number;
  /** Blocks compressed at once; default: one per core, plus one so no thread waits for input. */
  inFlight?: number;
}

/** Unit of the stored-or-compressed decision. */
const segmentSize = 64 << 10;
/** Bytes sampled per segment: 4 runs of 1 KiB, spread over it. */
const sampleRuns = 4;
const sampleRun = 1 << 10;
/**
 * Bits per byte above which a sample is taken for already-compressed data. Uniform random bytes
 * measure about 7.95 on 4 KiB (the estimate is biased low on small samples); text and most binaries
 * stay under 6.5.
 */
const entropyLimit = 7.5;

const histogram = new Uint32Array(256);

/** Byte entropy of a sample of `buf[start, end)`, in bits per byte. */
function sampleEntropy(buf: Buffer, start: number, end: number): number {
  histogram.fill(0);
  const step = Math.floor((end - start - sampleRun) / (sampleRuns - 1));
  let n = 0;
  for (let r = 0; r < sampleRuns; r++) {
    const from = start + r * step;
    for (let i = from; i < from + sampleRun; i++) {
      const v = buf[i] as number;
      histogram[v] = (histogram[v] as number) + 1;
    }
    n += sampleRun;
  }
  let h = 0;
  for (let b = 0; b < 256; b++) {
    const c = histogram[b] as number;
    if (c > 0) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

/**
 * Compresses one block into one or more gzip members. Segments that look already compressed
 * (jars, archives, uploads) are stored (level 0: the same bytes framed as deflate stored blocks),
 * the rest compressed at the requested level: deflate spends about 3× longer on random bytes
 * than on text and gains nothing there, and that was most of the backup's CPU time on the bench
 * tree. Consecutive segments of one kind form one member, so text keeps its 32 KiB history.
 */
function compressBlock(input: Buffer, level: number): Promise<Buffer> {
  const members: Promise<Buffer>[] = [];
  // Output chunks sized to the expected member (stored: the input plus framing; compressed: half
  // of it, text shrinks more): zlib's default 16 KiB chunks cost a main-thread round trip each.
  const member = (from: number, to: number, stored: boolean) =>
    gzipAsync(input.subarray(from, to), {
      level: stored ? 0 : level,
      chunkSize: Math.max(64 << 10, (stored ? to - from : (to - from) >> 1) + 4096),
    });
  let runStart = 0;
  let runStored: boolean | undefined;
  for (let at = 0; at < input.length; at += segmentSize) {
    const end = Math.min(at + segmentSize, input.length);
    const stored = end - at >= segmentSize && sampleEntropy(input, at, end) > entropyLimit;
    if (runStored !== undefined && stored !== runStored) {
      members.push(member(runStart, at, runStored));
      runStart = at;
    }
    runStored = stored;
  }
  members.push(member(runStart, input.length, runStored === true));
  return members.length === 1
    ? (members[0] as Promise<Buffer>)
    : Promise.all(members).then((parts) => Buffer.concat(parts));
}

/**
 * gzip on every core, the way pigz does it: the input is cut into blocks, each compressed on the
 * libuv thread pool into gzip members, and the members are written in order. A file of
 * concatenated members is plain gzip (RFC 1952 §2.2): gzip, tar and Node's gunzip read it as one
 * stream. Each member starts without the previous one's 32 KiB of history, which costs under
 * 0.1 % of size at 2 MiB blocks (measured in docs/backup.md).
 */
export function createParallelGzip(opts: ParallelGzipOptions): Transform {
  const blockSize = opts.blockSize ?? 2 << 20;
  const inFlight = opts.inFlight ?? availableParallelism() + 1;
  const queue: Promise<Buffer>[] = [];
  let block = Buffer.allocUnsafe(blockSize);
  let filled = 0;

  const submit = () => {
    queue.push(compressBlock(block.subarray(0, filled), opts.level));
    block = Buffer.allocUnsafe(blockSize);
    filled = 0;
  };

  return new Transform({
    async transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(chunk.length - off, blockSize - filled);
          chunk.copy(block, filled, off, off + n);
          filled += n;
          off += n;
          if (filled === blockSize) submit();
          // Bounded: wait for the oldest block before taking more input.
          while (queue.length >= inFlight) this.push(await (queue.shift() as Promise<Buffer>));
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    async flush(cb: TransformCallback) {
      try {
        if (filled > 0 || queue.length === 0) submit();
        while (queue.length > 0) this.push(await (queue.shift() as Promise<Buffer>));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
