import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

export interface ParallelGzipOptions {
  level: number;
  /** Input bytes per block. */
  blockSize?: number;
  /** Compressing threads (worker_threads); default one per core (`os.availableParallelism()`). */
  workers?: number;
  /** Blocks under way at once; default one per worker plus one, so no worker waits for input. */
  inFlight?: number;
}

/**
 * The compressing thread, as source (eval'd: the same code runs from the tsc build and from the
 * single-file bundle). It gzips the members of one block and sends them back as one buffer.
 */
const workerSource = `
const { parentPort } = require('node:worker_threads');
const { gzipSync } = require('node:zlib');
parentPort.on('message', ({ id, block, members }) => {
  try {
    const input = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const out = members.map(([from, to, level, chunkSize]) =>
      gzipSync(input.subarray(from, to), { level, chunkSize }),
    );
    parentPort.postMessage({ id, out: out.length === 1 ? out[0] : Buffer.concat(out) });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

/** A block's members: [from, to, level, chunkSize]. */
type Member = [number, number, number, number];

/**
 * Threads of their own for gzip, one per core: libuv's pool (4 threads whatever the core count,
 * UV_THREADPOOL_SIZE only read before its first use) is also the pool every file read and write
 * waits on, so compressing there starves the reads that feed it. Each job goes to the least busy
 * thread; results come back by id.
 */
function gzipPool(size: number) {
  const workers = Array.from({ length: size }, () => {
    const w = new Worker(workerSource, { eval: true });
    w.unref();
    return { w, busy: 0 };
  });
  const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  for (const x of workers) {
    x.w.on('message', (m: { id: number; out?: Uint8Array; error?: string }) => {
      x.busy--;
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (!p) return;
      if (m.error !== undefined || !m.out) p.reject(new Error(`gzip: ${m.error}`));
      else p.resolve(Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength));
    });
    x.w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  return {
    run(block: Buffer, members: Member[]): Promise<Buffer> {
      const x = workers.reduce((a, b) => (b.busy < a.busy ? b : a));
      x.busy++;
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // A block of its own (not Node's small-buffer pool) moves to the thread without a copy;
        // the caller never touches it again.
        const own = block.byteOffset === 0 && block.buffer.byteLength === block.length;
        x.w.postMessage({ id, block, members }, own ? [block.buffer as ArrayBuffer] : []);
      });
    },
    async close(): Promise<void> {
      await Promise.all(workers.map((x) => x.w.terminate()));
    },
  };
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
 * Cuts one block into the gzip members it is compressed as. Segments that look already compressed
 * (jars, archives, uploads) are stored (level 0: the same bytes framed as deflate stored blocks),
 * the rest compressed at the requested level: deflate spends about 3× longer on random bytes
 * than on text and gains nothing there, and that was most of the backup's CPU time on the bench
 * tree. Consecutive segments of one kind form one member, so text keeps its 32 KiB history.
 */
function membersOf(input: Buffer, level: number): Member[] {
  const members: Member[] = [];
  // Output chunks sized to the expected member (stored: the input plus framing; compressed: half
  // of it, text shrinks more): zlib's default 16 KiB chunks cost a copy and a call each.
  const member = (from: number, to: number, stored: boolean): Member => [
    from,
    to,
    stored ? 0 : level,
    Math.max(64 << 10, (stored ? to - from : (to - from) >> 1) + 4096),
  ];
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
  return members;
}

/**
 * gzip on every core, the way pigz does it: the input is cut into blocks, each compressed on a
 * worker thread (one per core) into gzip members, and the members are written in order. The
 * bytes do not depend on the number of threads (each block's members depend on the block alone). A file of
 * concatenated members is plain gzip (RFC 1952 §2.2): gzip, tar and Node's gunzip read it as one
 * stream. Each member starts without the previous one's 32 KiB of history, which costs under
 * 0.1 % of size at 2 MiB blocks (measured in docs/backup.md).
 */
export function createParallelGzip(opts: ParallelGzipOptions): Transform {
  const blockSize = opts.blockSize ?? 2 << 20;
  const workers = opts.workers ?? availableParallelism();
  const inFlight = opts.inFlight ?? workers + 1;
  const pool = gzipPool(workers);
  const queue: Promise<Buffer>[] = [];
  let block = Buffer.allocUnsafe(blockSize);
  let filled = 0;

  const submit = () => {
    const input = block.subarray(0, filled);
    const job = pool.run(input, membersOf(input, opts.level));
    // Not unhandled while it waits its turn in the queue; the consumer sees the rejection.
    job.catch(() => undefined);
    queue.push(job);
    block = Buffer.allocUnsafe(blockSize);
    filled = 0;
  };

  return new Transform({
    destroy(err, cb) {
      pool.close().then(
        () => cb(err),
        () => cb(err),
      );
    },
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
        await pool.close();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
