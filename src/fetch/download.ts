import { createHash, type Hash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { type FileHandle, lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { noSpaceError, UpliftError, unwritablePathError } from '../errors/index.ts';
import { fsyncDir } from '../repo/index.ts';
import { backoffDelay, classifyNetworkError, TransferFailure } from './http.ts';
import type { DownloadProgress } from './progress.ts';

/** One attempt's answer: the bytes from `start` (0 for the whole file) and how to resume later. */
export interface Opened {
  kind: 'full' | 'partial' | 'unsatisfiable';
  start: number;
  total?: number;
  validator?: string;
  body: AsyncIterable<Uint8Array> & { destroy(err?: Error): void };
}

/** Opens the file at `offset`; throws {@link TransferFailure} for a failed attempt. */
export type Opener = (
  offset: number,
  validator: string | undefined,
  signal: AbortSignal,
) => Promise<Opened>;

export interface DownloadOptions {
  open: Opener;
  /** Where the bytes come from, for messages and the `.part.json` record (credentials removed). */
  from: string;
  dest: string;
  size: number;
  sha256: string;
  /**
   * Attempts after the first one that fail with a network error, a timeout or a 5xx. Timeouts,
   * the minimum rate and the deadline are the opener's (src/fetch/http.ts, one path for every read).
   */
  retries: number;
  /** First retry delay; doubles each time, with jitter, capped at 30 s. */
  backoffMs?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  file: string;
  size: number;
  sha256: string;
  /** `cached`: the complete, verified file was already there; nothing was transferred. */
  status: 'downloaded' | 'resumed' | 'cached';
  /** Bytes found in a `.part` file from an earlier, interrupted run and kept. */
  resumedFrom: number;
  /** Bytes received over the network (or copied) in this run. */
  transferred: number;
  attempts: number;
  /** Times the download started over from byte 0 (a server without Range, a changed file). */
  restarts: number;
}

/** The record beside a `.part` file; a new process resumes only for the same source and content. */
interface PartRecord {
  from: string;
  size: number;
  sha256: string;
  validator?: string;
}

async function hashFile(file: string, hash: Hash, limit: number): Promise<number> {
  let n = 0;
  if (limit === 0) return 0;
  for await (const chunk of createReadStream(file, { end: limit - 1, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

async function fileMatches(file: string, size: number, sha256: string): Promise<boolean> {
  const st = await lstat(file).catch(() => undefined);
  if (!st?.isFile() || st.size !== size) return false;
  const h = createHash('sha256');
  await hashFile(file, h, size);
  return h.digest('hex') === sha256;
}

const { O_CREAT, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } = constants;

/**
 * A `.part` or `.part.json` that is not a regular file of its own (a symlink or a hard link
 * planted to make fetch write outside --out, a fifo) is removed, never followed: only the link
 * goes. A folder there is refused. Every open below adds O_NOFOLLOW for a link made meanwhile.
 */
async function removeIfNotOwnFile(file: string): Promise<void> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st || (st.isFile() && st.nlink === 1)) return;
  if (st.isDirectory())
    throw unwritablePathError(Object.assign(new Error(file), { code: 'EISDIR' }), file, '--out');
  await rm(file, { force: true });
}

async function readNoFollow(file: string): Promise<string> {
  const fh = await open(file, O_RDONLY | O_NOFOLLOW);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

async function writeNoFollow(file: string, text: string): Promise<void> {
  const fh = await open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

/** A local write that failed for lack of space is not a network failure: it is never retried. */
function localWriteError(err: unknown, file: string, offset: number): unknown {
  return (
    noSpaceError(
      err,
      file,
      offset > 0
        ? `The ${offset} bytes received are kept; the same command resumes there.`
        : undefined,
    ) ?? err
  );
}

function mismatch(o: DownloadOptions, what: string): UpliftError {
  return new UpliftError('UPLIFT_FETCH_MISMATCH', `${o.from}: ${what}`, {
    hint: 'The repository serves other bytes than its signed index lists (a damaged mirror or an attack); nothing was kept. Tell the repository owner or use another mirror.',
    unchanged: true,
  });
}

/**
 * Downloads one file so that it is complete and verified, or absent. Bytes go to `<dest>.part`,
 * hashed as they are written; `<dest>.part.json` records the source and its validator, so a later
 * process re-hashes the prefix and asks only for the rest (`Range` + `If-Range`). A 200 answer
 * to a ranged request (no Range support, or the file changed) starts over from byte 0. Only a file
 * whose size and SHA-256 equal the expected ones is renamed to `dest`.
 */
export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  const base = { file: o.dest, size: o.size, sha256: o.sha256 };
  if (await fileMatches(o.dest, o.size, o.sha256))
    return { ...base, status: 'cached', resumedFrom: 0, transferred: 0, attempts: 0, restarts: 0 };

  const part = `${o.dest}.part`;
  const recordFile = `${o.dest}.part.json`;
  await removeIfNotOwnFile(part);
  await removeIfNotOwnFile(recordFile);
  let record: PartRecord | undefined;
  try {
    record = JSON.parse(await readNoFollow(recordFile)) as PartRecord;
  } catch {
    record = undefined;
  }
  const sameSource =
    record?.from === o.from && record.size === o.size && record.sha256 === o.sha256;

  let hash = createHash('sha256');
  let offset = 0;
  let validator: string | undefined;
  if (sameSource) {
    const st = await lstat(part).catch(() => undefined);
    if (st?.isFile() && st.size <= o.size) {
      offset = await hashFile(part, hash, st.size);
      validator = record?.validator;
    }
  }
  if (offset === 0) hash = createHash('sha256');
  const resumedFrom = offset;
  const saveRecord = () =>
    writeNoFollow(
      recordFile,
      JSON.stringify({ from: o.from, size: o.size, sha256: o.sha256, validator }),
    ).catch((err) => {
      throw localWriteError(err, recordFile, 0);
    });
  await saveRecord();

  const fh = await open(
    part,
    (offset > 0 ? O_RDWR : O_WRONLY | O_CREAT | O_TRUNC) | O_NOFOLLOW,
    0o644,
  ).catch((err) => {
    throw localWriteError(err, part, 0);
  });
  let transferred = 0;
  let attempts = 0;
  let restarts = 0;
  let retriedFromZero = false;
  const started = Date.now();
  const progress = (done: boolean) =>
    o.onProgress?.({
      file: basename(o.dest),
      bytes: offset,
      total: o.size,
      resumedFrom,
      transferred,
      elapsedMs: Date.now() - started,
      done,
    });
  const restart = async () => {
    offset = 0;
    hash = createHash('sha256');
    await fh.truncate(0);
    restarts++;
  };
  const discard = async () => {
    await fh.close().catch(() => undefined);
    await rm(part, { force: true });
    await rm(recordFile, { force: true });
  };

  try {
    await fh.truncate(offset);
    let failures = 0;
    for (;;) {
      if (offset < o.size) {
        attempts++;
        try {
          await transferOnce();
        } catch (err) {
          if (err instanceof UpliftError) throw err;
          const f = classifyNetworkError(err, o.from);
          if (!f.retryable || failures >= o.retries) throw finalError(f, failures);
          await sleep(backoffDelay(failures, f.retryAfterMs, o.backoffMs));
          failures++;
          continue;
        }
        if (offset < o.size) continue;
      }
      if (hash.copy().digest('hex') === o.sha256 && offset === o.size) break;
      // A prefix kept from an earlier run may itself be damaged: start over once before refusing.
      if (resumedFrom > 0 && !retriedFromZero) {
        retriedFromZero = true;
        validator = undefined;
        await restart();
        continue;
      }
      throw mismatch(o, `the ${o.size} bytes received do not have the SHA-256 the index lists`);
    }
    await fh.sync().catch((err) => {
      throw localWriteError(err, part, offset);
    });
    await fh.close();
    await rename(part, o.dest);
    fsyncDir(dirname(o.dest));
    await rm(recordFile, { force: true });
    progress(true);
    return {
      ...base,
      status: resumedFrom > 0 && restarts === 0 ? 'resumed' : 'downloaded',
      resumedFrom,
      transferred,
      attempts,
      restarts,
    };
  } catch (err) {
    if (err instanceof UpliftError && err.code === 'UPLIFT_FETCH_MISMATCH') await discard();
    else await fh.close().catch(() => undefined);
    throw err;
  }

  async function transferOnce(): Promise<void> {
    const ac = new AbortController();
    const opened = await o.open(offset, offset > 0 ? validator : undefined, ac.signal);
    if (opened.kind === 'unsatisfiable') {
      validator = undefined;
      await restart();
      throw new TransferFailure(`${o.from}: the server refused the range; starting over`, {
        retryable: true,
      });
    }
    if (opened.total !== undefined && opened.total !== o.size) {
      opened.body.destroy();
      throw mismatch(o, `the server has ${opened.total} bytes; the index lists ${o.size}`);
    }
    if (opened.kind === 'full' && offset > 0) await restart();
    if (opened.kind === 'partial' && opened.start !== offset) {
      opened.body.destroy();
      validator = undefined;
      await restart();
      throw new TransferFailure(`${o.from}: the server sent bytes from ${opened.start}`, {
        retryable: true,
      });
    }
    if (opened.validator !== validator) {
      validator = opened.validator;
      await saveRecord();
    }
    await receive(opened, ac);
  }

  async function receive(opened: Opened, ac: AbortController): Promise<void> {
    let lastReport = 0;
    try {
      for await (const chunk of opened.body) {
        if (offset + chunk.length > o.size) {
          opened.body.destroy();
          throw mismatch(o, `the server sends more than the ${o.size} bytes the index lists`);
        }
        await writeAll(fh, chunk, offset).catch((err) => {
          throw localWriteError(err, part, offset);
        });
        hash.update(chunk);
        offset += chunk.length;
        transferred += chunk.length;
        const now = Date.now();
        if (now - lastReport >= 200) {
          lastReport = now;
          progress(false);
        }
      }
    } catch (err) {
      if (err instanceof UpliftError) throw err;
      throw classifyNetworkError(ac.signal.aborted ? ac.signal.reason : err, o.from);
    }
    if (offset < o.size)
      throw new TransferFailure(`${o.from}: the connection ended at byte ${offset}`, {
        retryable: true,
      });
  }

  function finalError(f: TransferFailure, failures: number): UpliftError {
    const tries = `${failures + 1} attempt${failures === 0 ? '' : 's'}`;
    if (f.timeout)
      return new UpliftError('UPLIFT_FETCH_TIMEOUT', `${f.message} (gave up after ${tries})`, {
        hint: `The server stalled. Run the same command again to resume from byte ${offset}, or raise --timeout.`,
      });
    return new UpliftError('UPLIFT_FETCH_HTTP', `${f.message} (gave up after ${tries})`, {
      hint:
        f.status !== undefined && !f.retryable
          ? 'Check --repo; the repository may be incomplete (tell its owner).'
          : `Run the same command again: it resumes from byte ${offset}.`,
    });
  }
}

async function writeAll(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}
