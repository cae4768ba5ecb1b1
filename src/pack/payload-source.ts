import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  decompressBounded,
  FrameError,
  frameHeaderBytes,
  UnpackedLimitError,
  windowLog,
} from './zstd.ts';

/**
 * The compressed payload of a pack: decompressed, and its bytes hashed (the payload hash, and the
 * whole-file hash, which continues the bytes before the payload, only when `span.head` is given).
 *
 * Payloads of {@link workerThreshold} and more are read and decompressed on one worker thread,
 * which hands decompressed buffers over without copying, and read again and hashed on a second
 * one (from the page cache: reading costs a tenth of hashing); the main thread parses the tar and
 * hashes each file. The three threads share the work without waiting for each other: decoding,
 * the hash of the compressed bytes, and the hash of the unpacked bytes (about twice as many) with
 * the tar. Memory stays bounded: the decoder runs ahead by at most {@link outputsAhead} buffers
 * of {@link outputBytes}; the hasher holds one read buffer. Smaller payloads run the same steps
 * inline: a worker costs tens of milliseconds to start.
 */
export interface PayloadSource {
  /** The decompressed payload, in order. Throws FrameError or UnpackedLimitError. */
  output(): AsyncGenerator<Buffer>;
  /**
   * Stops decoding, waits until every compressed byte is read and hashed, and returns how many
   * were read (fewer than asked when the file is cut short) and the SHA-256s.
   */
  finish(): Promise<PayloadTotals>;
  /** Stops any work; call before the file handle is closed. */
  close(): Promise<void>;
}

export interface PayloadTotals {
  count: number;
  payload: string;
  /** The whole file's SHA-256, when the bytes before the payload were given. */
  whole?: string;
}

export interface PayloadSpan {
  /** Offset and size of the compressed payload in the file. */
  at: number;
  bytes: number;
  /** Decompression stops past this many bytes (`payload.unpackedBytes`). */
  limit: number;
  /**
   * The bytes before the payload, in order: they begin the whole-file hash. Without them the
   * whole-file hash is not computed.
   */
  head?: Buffer[];
  progress: (offset: number) => void;
}

export const workerThreshold = 16 << 20;
/** Compressed bytes per read: large reads cost least per byte. */
const readBytes = 4 << 20;
/** Decompressed bytes per buffer the worker hands over. */
const outputBytes = 2 << 20;
const outputsAhead = 3;
/** Output buffers the main thread keeps before it returns the oldest to the worker. */
const outputsHeld = 4;

export function openPayload(fh: FileHandle, span: PayloadSpan): PayloadSource {
  return span.bytes >= workerThreshold ? workerSource(fh, span) : inlineSource(fh, span);
}

function inlineSource(fh: FileHandle, span: PayloadSpan): PayloadSource {
  const payload = createHash('sha256');
  const whole = span.head && createHash('sha256');
  for (const b of span.head ?? []) whole?.update(b);
  const buf = Buffer.allocUnsafe(Math.min(readBytes, Math.max(span.bytes, 1)));
  let count = 0;
  // The decoder consumes a chunk entirely before it asks for the next, so one buffer is reused.
  const next = async (): Promise<Buffer | undefined> => {
    const want = Math.min(buf.length, span.bytes - count);
    if (want === 0) return undefined;
    const { bytesRead } = await fh.read(buf, 0, want, span.at + count);
    if (bytesRead === 0) return undefined;
    count += bytesRead;
    const chunk = buf.subarray(0, bytesRead);
    payload.update(chunk);
    whole?.update(chunk);
    span.progress(span.at + count);
    return chunk;
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let c = await next(); c; c = await next()) yield c;
  }
  return {
    output: () =>
      decompressBounded(chunks(), span.limit, async (offset, length) => {
        const b = Buffer.alloc(Math.max(0, Math.min(length, span.bytes - offset)));
        const { bytesRead } = await fh.read(b, 0, b.length, span.at + offset);
        return b.subarray(0, bytesRead);
      }),
    finish: async () => {
      while (await next());
      return { count, payload: payload.digest('hex'), whole: whole?.digest('hex') };
    },
    close: async () => {},
  };
}

interface DoneMessage {
  type: 'done';
  count: number;
  error?: { kind: 'frame' | 'limit' | 'read'; message: string };
}
interface HashedMessage {
  count: number;
  payload: string;
  whole?: string;
  error?: string;
}
type WorkerMessage =
  | { type: 'out'; buf: ArrayBuffer; length: number; count: number }
  | { type: 'read'; count: number }
  | DoneMessage;

const zstdBinding = createRequire(import.meta.url).resolve('zstd-napi/binding.js');

/**
 * The hasher: reads the payload with large synchronous reads into one buffer and hashes it into
 * the payload hash and, when the bytes before the payload are given, the whole-file hash.
 */
const hasherCode = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const payload = createHash('sha256');
const whole = w.head && createHash('sha256');
if (whole) whole.update(Buffer.from(w.head.buffer, w.head.byteOffset, w.head.byteLength));
const buf = Buffer.allocUnsafe(Math.min(w.read, Math.max(w.bytes, 1)));
let count = 0, error;
try {
  while (count < w.bytes) {
    const n = readSync(w.fd, buf, 0, Math.min(buf.length, w.bytes - count), w.at + count);
    if (n === 0) break;
    count += n;
    const b = buf.subarray(0, n);
    payload.update(b);
    if (whole) whole.update(b);
  }
} catch (e) {
  error = e.message;
}
parentPort.postMessage({ count, payload: payload.digest('hex'), whole: whole ? whole.digest('hex') : undefined, error });
`;

/**
 * The decoder: reads the payload with large synchronous reads (it is its own thread) and decodes
 * it into whole output buffers that it transfers to the main thread. Output buffers come back once
 * the main thread is done with them and are reused: fresh ones cost page faults that made decoding
 * up to half again slower. The pool bounds how far the worker runs ahead (and so the memory). On
 * `drain` it stops. It reports the first decoding error, at the end.
 */
const workerCode = `
const { parentPort, workerData: w } = require('node:worker_threads');
const { readSync } = require('node:fs');
const binding = require(w.zstd);
const outFree = [];
const readFree = [];
let outMade = 0;
let readMade = 0;
let draining = false;
let wake = null;
parentPort.on('message', (m) => {
  if (m.type === 'out') outFree.push(Buffer.from(m.buf));
  else if (m.type === 'drain') draining = true;
  if (wake) { const f = wake; wake = null; f(); }
});
const sleep = () => new Promise((r) => { wake = r; });
async function run() {
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, w.windowLog);
  let count = 0, total = 0, inFrame = false, error;
  // The current frame's number and payload offset, and the payload offset of src[0].
  let frame = 0, frameAt = 0, pos = 0, checked = -1;
  const peek = Buffer.alloc(w.headerBytes);
  let dst;
  let filled = 0;
  const flush = async () => {
    const ab = dst.buffer;
    parentPort.postMessage({ type: 'out', buf: ab, length: filled, count }, [ab]);
    dst = undefined;
    filled = 0;
  };
  // frameOverLimit of zstd.ts: a declared content size beyond what the manifest leaves.
  const overLimit = () => {
    const n = readSync(w.fd, peek, 0, Math.min(peek.length, w.bytes - frameAt), w.at + frameAt);
    let declared = null;
    try { declared = binding.getFrameContentSize(peek.subarray(0, n)); } catch {}
    if (declared === null || declared <= w.limit - total) return undefined;
    return 'frame ' + frame + ' (at payload byte ' + frameAt + ') declares ' + declared +
      ' unpacked bytes; the manifest leaves ' + (w.limit - total);
  };
  try {
    while (count < w.bytes && !draining) {
      let buf = readFree.pop();
      if (!buf) {
        if (readMade < w.readPool) { buf = Buffer.allocUnsafe(w.read); readMade++; }
        else { while (readFree.length === 0) await sleep(); buf = readFree.pop(); }
      }
      const n = readSync(w.fd, buf, 0, Math.min(buf.length, w.bytes - count), w.at + count);
      if (n === 0) break;
      pos = count;
      count += n;
      let src = buf.subarray(0, n);
      if (!error && !draining) {
        try {
          for (;;) {
            if (!dst) {
              dst = outFree.pop();
              if (!dst && outMade < w.outPool) { dst = Buffer.allocUnsafe(w.out); outMade++; }
              while (!dst && !draining) { await sleep(); dst = outFree.pop(); }
              if (!dst) break;
            }
            if (!inFrame && checked !== frame && src.length > 0) {
              checked = frame;
              const over = overLimit();
              if (over) { error = { kind: 'limit', message: over }; break; }
            }
            const room = dst.length - filled;
            let ret, produced, consumed;
            try {
              [ret, produced, consumed] = dctx.decompressStream(dst.subarray(filled), src);
            } catch (e) {
              error = { kind: 'frame', message: 'frame ' + frame + ' (at payload byte ' + frameAt + ') is damaged: ' + e.message };
              break;
            }
            src = src.subarray(consumed);
            pos += consumed;
            inFrame = ret !== 0;
            if (ret === 0 && consumed + produced > 0) { frame++; frameAt = pos; }
            filled += produced;
            total += produced;
            if (total > w.limit) { error = { kind: 'limit', message: 'over the limit' }; break; }
            if (filled === dst.length) await flush();
            if (draining) break;
            if (src.length === 0 && (produced < room || ret === 0)) break;
          }
        } catch (e) {
          error = { kind: 'frame', message: e.message };
        }
      }
      // Decoded (or never to be): the read buffer is free again.
      readFree.push(buf);
      parentPort.postMessage({ type: 'read', count });
    }
    if (!error && !draining) {
      if (inFrame) error = { kind: 'frame', message: 'the compressed payload ends in the middle of frame ' + frame + ' (at payload byte ' + frameAt + ')' };
      else if (filled > 0) await flush();
    }
  } catch (e) {
    error = { kind: 'read', message: e.message };
  }
  parentPort.postMessage({ type: 'done', count, error });
}
run();
`;

function workerSource(fh: FileHandle, span: PayloadSpan): PayloadSource {
  const worker = new Worker(workerCode, {
    eval: true,
    workerData: {
      zstd: zstdBinding,
      fd: fh.fd,
      at: span.at,
      bytes: span.bytes,
      limit: span.limit,
      read: readBytes,
      out: outputBytes,
      outPool: outputsAhead + outputsHeld + 1,
      readPool: 3,
      windowLog,
      headerBytes: frameHeaderBytes,
    },
  });
  const hasher = new Worker(hasherCode, {
    eval: true,
    workerData: {
      head: span.head && Buffer.concat(span.head),
      fd: fh.fd,
      at: span.at,
      bytes: span.bytes,
      read: readBytes,
    },
  });
  let hashed: HashedMessage | undefined;
  const queue: Buffer[] = [];
  const held: Buffer[] = [];
  let done: DoneMessage | undefined;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const f = wake;
    wake = undefined;
    f?.();
  };
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'out') queue.push(Buffer.from(m.buf, 0, m.length));
    else if (m.type === 'done') done = m;
    span.progress(span.at + m.count);
    notify();
  });
  worker.on('error', (err) => {
    failed = err;
    notify();
  });
  hasher.on('message', (m: HashedMessage) => {
    hashed = m;
    notify();
  });
  hasher.on('error', (err) => {
    failed = err;
    notify();
  });
  const settle = async (): Promise<HashedMessage> => {
    while (!hashed) {
      if (failed) throw failed;
      await new Promise<void>((res) => {
        wake = res;
      });
    }
    return hashed;
  };
  let closed = false;
  return {
    async *output() {
      for (;;) {
        const b = queue.shift();
        if (b) {
          // tar and the per-file hashing are done with a buffer long before this many more have
          // passed (each write into tar waits until the one before is consumed): it goes back.
          held.push(b);
          if (held.length > outputsHeld) {
            const old = (held.shift() as Buffer).buffer as ArrayBuffer;
            worker.postMessage({ type: 'out', buf: old }, [old]);
          }
          yield b;
          continue;
        }
        if (done) {
          if (done.error?.kind === 'limit')
            throw new UnpackedLimitError(
              span.limit,
              done.error.message === 'over the limit' ? undefined : done.error.message,
            );
          if (done.error) throw new FrameError(done.error.message);
          return;
        }
        if (failed) throw failed;
        await new Promise<void>((res) => {
          wake = res;
        });
      }
    },
    finish: async () => {
      if (!done) worker.postMessage({ type: 'drain' });
      const h = await settle();
      if (h.error !== undefined) throw new Error(h.error);
      if (done?.error?.kind === 'read') throw new Error(done.error.message);
      return { count: h.count, payload: h.payload, whole: h.whole };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([worker.terminate(), hasher.terminate()]);
    },
  };
}
