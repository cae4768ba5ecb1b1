import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of the payload and of the whole file, over the same compressed bytes. For large payloads
 * the two hashes run on a worker thread, beside decompression and per-file hashing on the main
 * thread: verification then keeps pace with `sha256sum` on two cores. At most `maxInFlight`
 * chunks wait for the worker, so memory stays bounded.
 */
export interface PairHash {
  /** Bytes before the payload: only in the whole-file hash. */
  head(buf: Buffer): void;
  /** Payload bytes: in both. May wait for the worker to catch up. */
  update(buf: Buffer): Promise<void> | undefined;
  digests(): Promise<{ payload: string; whole: string }>;
  close(): void;
}

/** Payloads smaller than this hash inline: a worker costs tens of milliseconds to start. */
export const workerThreshold = 16 << 20;
const maxInFlight = 4;

export function createPairHash(payloadBytes: number): PairHash {
  return payloadBytes >= workerThreshold ? workerPair() : inlinePair();
}

function inlinePair(): PairHash {
  const payload = createHash('sha256');
  const whole = createHash('sha256');
  return {
    head: (buf) => void whole.update(buf),
    update: (buf) => {
      payload.update(buf);
      whole.update(buf);
      return undefined;
    },
    digests: async () => ({ payload: payload.digest('hex'), whole: whole.digest('hex') }),
    close: () => {},
  };
}

const workerSource = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const payload = createHash('sha256');
const whole = createHash('sha256');
parentPort.on('message', (m) => {
  if (m.type === 'head') whole.update(m.buf);
  else if (m.type === 'chunk') {
    payload.update(m.buf);
    whole.update(m.buf);
    parentPort.postMessage({ type: 'ack' });
  } else if (m.type === 'end')
    parentPort.postMessage({ type: 'done', payload: payload.digest('hex'), whole: whole.digest('hex') });
});
`;

function workerPair(): PairHash {
  const worker = new Worker(workerSource, { eval: true });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let done: ((d: { payload: string; whole: string }) => void) | undefined;
  let failed: Error | undefined;
  worker.on('message', (m: { type: string; payload: string; whole: string }) => {
    if (m.type === 'ack') {
      inFlight--;
      wake?.();
      wake = undefined;
    } else if (m.type === 'done') done?.({ payload: m.payload, whole: m.whole });
  });
  worker.on('error', (err) => {
    failed = err;
    wake?.();
  });
  return {
    head: (buf) => worker.postMessage({ type: 'head', buf }),
    update: (buf) => {
      if (failed) throw failed;
      worker.postMessage({ type: 'chunk', buf });
      inFlight++;
      if (inFlight < maxInFlight) return undefined;
      return new Promise<void>((res) => {
        wake = res;
      });
    },
    digests: () =>
      new Promise((res, rej) => {
        if (failed) return rej(failed);
        done = (d) => {
          void worker.terminate();
          res(d);
        };
        worker.postMessage({ type: 'end' });
      }),
    close: () => void worker.terminate(),
  };
}
