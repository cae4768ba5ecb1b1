import { createHash } from 'node:crypto';
import { fdatasync, write } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import binding from 'zstd-napi/binding.js';
import { windowLog } from './zstd.ts';

/**
 * Bytes of tar each zstd frame of a payload holds (the last frame fewer). Fixed, so frame
 * boundaries are a pure function of the tar and a pack's bytes do not depend on how many threads
 * built it; each frame is compressed alone (no dictionary, no shared window) with its content
 * size and checksum in its header. Chosen by measurement (docs/pack-format.md, "Speed").
 */
export const frameBytes = 4 << 20;

/** Compression worker threads by default: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Written bytes after which the frames so far are flushed to disk in the background (fdatasync on
 * the thread pool, while later frames are compressed and written): the fsync that makes the pack
 * durable then waits only for the last of them (0.2 s less on a 500 MB pack).
 */
const flushBytes = 64 << 20;

/**
 * Frames in flight at least, whatever the number of workers: the thread that reads the files runs
 * ahead through the fast stretches (a few large files) to cover the slow ones (thousands of small
 * files, an open and a close each), so the compressor never waits. With one worker, 5 instead of 3
 * took 0.2 s off 1 GiB (3.43 s → 3.20 s, mean of three), for 40 MB more peak RSS.
 */
const minInFlight = 5;

/** The largest payload the frames of a tar of `tarBytes` can make (zstd's bound per frame). */
export function payloadBound(tarBytes: number): number {
  const full = Math.floor(tarBytes / frameBytes);
  const rest = tarBytes - full * frameBytes;
  return full * binding.compressBound(frameBytes) + (rest > 0 ? binding.compressBound(rest) : 0);
}

const zstdBinding = createRequire(import.meta.url).resolve('zstd-napi/binding.js');

/** The pack's fixed compression parameters on a context: each call of compress2 is one frame. */
function frameContext(level: number): InstanceType<typeof binding.CCtx> {
  const cctx = new binding.CCtx();
  const p = binding.CParameter;
  cctx.setParameter(p.compressionLevel, level);
  cctx.setParameter(p.windowLog, windowLog);
  cctx.setParameter(p.contentSizeFlag, 1);
  cctx.setParameter(p.checksumFlag, 1);
  cctx.setParameter(p.nbWorkers, 0);
  return cctx;
}

/**
 * A compression worker: frames in, frames out, both buffers transferred (not copied) and handed
 * back for reuse. The parameters are frameContext's.
 */
const workerCode = `
const { parentPort, workerData: w } = require('node:worker_threads');
const binding = require(w.zstd);
const cctx = new binding.CCtx();
const p = binding.CParameter;
cctx.setParameter(p.compressionLevel, w.level);
cctx.setParameter(p.windowLog, w.windowLog);
cctx.setParameter(p.contentSizeFlag, 1);
cctx.setParameter(p.checksumFlag, 1);
cctx.setParameter(p.nbWorkers, 0);
parentPort.on('message', (m) => {
  let n = 0, error;
  try { n = cctx.compress2(new Uint8Array(m.out), new Uint8Array(m.in, 0, m.length)); }
  catch (e) { error = e.message; }
  parentPort.postMessage({ seq: m.seq, in: m.in, out: m.out, n, error }, [m.in, m.out]);
});
`;

interface Done {
  seq: number;
  in: ArrayBuffer;
  out: ArrayBuffer;
  n: number;
  error?: string;
}

export interface FrameWriterOptions {
  /** Where the payload starts in the file. */
  at: number;
  /** zstd level. */
  level: number;
  /** Compression threads. */
  workers: number;
  /**
   * The tar's size, when known: with more than one frame to come the threads start at once, else
   * at the second frame (a payload of one frame is compressed inline).
   */
  tarBytes?: number;
  /** Bytes written between background flushes (default {@link flushBytes}). */
  flushEvery?: number;
}

/**
 * Compresses a stream of full {@link frameBytes} buffers (the last may be shorter) as one frame
 * each, on `workers` threads, and writes the frames in order to `fd`, hashing them. A payload of
 * one frame is compressed inline: starting a thread costs more than it saves. At most
 * `workers + 2` frames (and at least {@link minInFlight}) are in flight, so memory stays at a few
 * frames per worker.
 */
export class FrameWriter {
  private readonly fd: number;
  private readonly level: number;
  private readonly count: number;
  private readonly maxInFlight: number;
  private readonly inFree: Buffer[] = [];
  private readonly outFree: Buffer[] = [];
  private inMade = 0;
  private workers: Worker[] = [];
  private held: { buf: Buffer; length: number } | undefined;
  private seq = 0;
  private next = 0;
  private readonly ready = new Map<number, { out: Buffer; n: number }>();
  private failed: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  /** Frames handed to the file system and not yet written. */
  private writing = 0;
  /** Bytes written since the last background flush began, and whether one is running. */
  private unflushed = 0;
  private flushing = false;

  /** Where the payload starts in the file. */
  private readonly at: number;
  private readonly flushEvery: number;

  constructor(fd: number, o: FrameWriterOptions) {
    this.fd = fd;
    this.at = o.at;
    this.level = o.level;
    this.count = Math.max(1, Math.floor(o.workers));
    this.maxInFlight = Math.max(this.count + 2, minInFlight);
    this.flushEvery = o.flushEvery ?? flushBytes;
    // More than one frame to come: the threads start now, while the first frame is read.
    if (o.tarBytes !== undefined && o.tarBytes > frameBytes) this.start();
  }

  /** An empty buffer of {@link frameBytes} to fill with the next frame's tar bytes. */
  async take(): Promise<Buffer> {
    for (;;) {
      this.check();
      const b = this.inFree.pop();
      if (b) return b;
      if (this.inMade < this.maxInFlight + 2) {
        this.inMade++;
        return Buffer.allocUnsafe(frameBytes);
      }
      await this.sleep();
    }
  }

  /** Queues `buf` (filled to `length`) as the next frame; waits while too many are in flight. */
  async put(buf: Buffer, length: number): Promise<void> {
    this.check();
    if (this.seq === 0 && this.workers.length === 0 && this.held === undefined) {
      this.held = { buf, length };
      return;
    }
    if (this.workers.length === 0) this.start();
    if (this.held) {
      this.dispatch(this.held.buf, this.held.length);
      this.held = undefined;
    }
    this.dispatch(buf, length);
    while (this.seq - this.next >= this.maxInFlight) {
      await this.sleep();
      this.check();
    }
  }

  /** Waits for every frame to be written; the payload's size and SHA-256. */
  async end(): Promise<{ bytes: number; sha256: string }> {
    if (this.held) {
      const cctx = frameContext(this.level);
      const out = Buffer.allocUnsafe(binding.compressBound(this.held.length));
      const n = cctx.compress2(out, this.held.buf.subarray(0, this.held.length));
      this.write(out.subarray(0, n));
      this.held = undefined;
      this.seq++;
      this.next++;
    }
    this.check();
    while (this.next < this.seq || this.writing > 0 || this.flushing) {
      await this.sleep();
      this.check();
    }
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Stops the workers; call once, after end() or on failure. */
  async close(): Promise<void> {
    while (this.writing > 0 || this.flushing) await this.sleep();
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private start(): void {
    for (let i = 0; i < this.count; i++) {
      const w = new Worker(workerCode, {
        eval: true,
        workerData: { zstd: zstdBinding, level: this.level, windowLog },
      });
      w.on('message', (m: Done) => this.receive(m));
      w.on('error', (err) => {
        this.failed ??= err;
        this.notify();
      });
      this.workers.push(w);
    }
  }

  private dispatch(buf: Buffer, length: number): void {
    const out = this.outFree.pop() ?? Buffer.allocUnsafe(binding.compressBound(frameBytes));
    const seq = this.seq++;
    const w = this.workers[seq % this.workers.length] as Worker;
    const inAb = buf.buffer as ArrayBuffer;
    const outAb = out.buffer as ArrayBuffer;
    w.postMessage({ seq, in: inAb, length, out: outAb }, [inAb, outAb]);
  }

  private receive(m: Done): void {
    this.inFree.push(Buffer.from(m.in));
    if (m.error !== undefined) this.failed ??= new Error(`zstd: ${m.error}`);
    else this.ready.set(m.seq, { out: Buffer.from(m.out), n: m.n });
    for (let r = this.ready.get(this.next); r; r = this.ready.get(this.next)) {
      this.ready.delete(this.next);
      this.write(r.out.subarray(0, r.n), () => this.outFree.push(r.out));
      this.next++;
    }
    this.notify();
  }

  /**
   * Hashes a frame and writes it at its offset on libuv's thread pool (positioned writes, so the
   * order they finish in does not matter): the main thread reads and hashes the files meanwhile.
   */
  private write(b: Buffer, written: () => void = () => {}): void {
    this.hash.update(b);
    const at = this.at + this.bytes;
    this.bytes += b.length;
    this.writing++;
    const rest = (off: number) =>
      write(this.fd, b, off, b.length - off, at + off, (err, n) => {
        if (!err && off + n < b.length) return rest(off + n);
        if (err) this.failed ??= err;
        this.writing--;
        this.unflushed += b.length;
        written();
        this.flush();
        this.notify();
      });
    rest(0);
  }

  /** Starts a background fdatasync once `flushEvery` more bytes are written (one at a time). */
  private flush(): void {
    if (this.flushing || this.unflushed < this.flushEvery || this.failed) return;
    this.flushing = true;
    this.unflushed = 0;
    fdatasync(this.fd, (err) => {
      if (err) this.failed ??= err;
      this.flushing = false;
      this.notify();
    });
  }

  private check(): void {
    if (this.failed) throw this.failed;
  }

  private sleep(): Promise<void> {
    return new Promise((res) => {
      this.wake = res;
    });
  }

  private notify(): void {
    const f = this.wake;
    this.wake = undefined;
    f?.();
  }
}

/**
 * The tar stream of a payload, cut into frames of exactly {@link frameBytes}: headers and padding
 * are copied in, file content is read straight into the frame buffer (see room/commit).
 */
export class FrameStream {
  private readonly frames: FrameWriter;
  private buf: Buffer | undefined;
  private filled = 0;
  /** Tar bytes so far. */
  total = 0;

  constructor(frames: FrameWriter) {
    this.frames = frames;
  }

  /** The free space of the current frame (at least one byte). */
  async room(): Promise<Buffer> {
    if (this.buf && this.filled === this.buf.length) {
      await this.frames.put(this.buf, this.filled);
      this.buf = undefined;
    }
    if (!this.buf) {
      this.buf = await this.frames.take();
      this.filled = 0;
    }
    return this.buf.subarray(this.filled);
  }

  /** Counts `n` bytes written into the last room(). */
  commit(n: number): void {
    this.filled += n;
    this.total += n;
  }

  async write(b: Buffer): Promise<void> {
    for (let off = 0; off < b.length; ) {
      const room = await this.room();
      const n = b.copy(room, 0, off);
      this.commit(n);
      off += n;
    }
  }

  async zeros(count: number): Promise<void> {
    for (let left = count; left > 0; ) {
      const room = await this.room();
      const n = Math.min(room.length, left);
      room.fill(0, 0, n);
      this.commit(n);
      left -= n;
    }
  }

  /** Hands over the last, partial frame. */
  async end(): Promise<void> {
    if (this.buf && this.filled > 0) await this.frames.put(this.buf, this.filled);
    this.buf = undefined;
  }
}
