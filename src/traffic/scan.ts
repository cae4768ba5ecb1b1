import { open } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UpliftError } from '../errors/index.ts';
import type { LineParser } from './xferlog.ts';

/** The longest line read; a longer one is a bad line, skipped without being held in memory. */
export const MAX_LINE_BYTES = 65_536;
/** A file is not a log when more than half of its first this-many lines are bad. */
export const SAMPLE_LINES = 1000;
/** … or when this much of it was read without one good line (a binary file has few newlines). */
const SAMPLE_BYTES = 4 * 1_048_576;
const READ_CHUNK = 1_048_576;
const LF = 0x0a;

export interface Skipped {
  count: number;
  examples: { file: string; line: number; reason: string }[];
}

export interface ScanOptions {
  /** Bad lines kept as examples (default 5). */
  examples?: number;
  /** Called after each chunk read from disk (compressed bytes for a gzip'd file). */
  onProgress?: (p: { file: string; bytesRead: number; totalBytes: number }) => void;
  signal?: AbortSignal;
}

/** True when the file starts with the gzip magic bytes 1f 8b. */
async function isGzip(file: string): Promise<{ gzip: boolean; size: number }> {
  const fh = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${file} does not exist`, {
        location: { file },
        hint: 'give the path of a transfer log (xferlog, or a gzip of one)',
      });
    throw new UpliftError('UPLIFT_FILE_UNREADABLE', `${file} cannot be read: ${error.code}`, {
      location: { file },
      hint: 'give uplift read access to the log',
      cause: error,
    });
  });
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0).catch((error: NodeJS.ErrnoException) => {
      throw new UpliftError('UPLIFT_FILE_UNREADABLE', `${file} cannot be read: ${error.code}`, {
        location: { file },
        hint: 'give the path of a transfer log file',
        cause: error,
      });
    });
    const size = (await fh.stat()).size;
    return { gzip: bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b, size };
  } finally {
    await fh.close();
  }
}

/**
 * Reads one log file (plain or gzip'd, told by its first bytes) line by line into `parse`, in
 * bounded memory: chunks of 1 MiB, lines cut where they lie in the chunk (Buffer.indexOf, no string
 * made per line), only a line that straddles two chunks copied. Bad lines are counted into
 * `skipped`; a file whose first lines are mostly bad is not a log (UPLIFT_TRAFFIC_LOG_INVALID),
 * which is thrown before anything of it is trusted. Yields after each chunk, so that a caller can
 * hand on what the chunk gave before the next is read: true once the file was judged a log.
 */
export async function* scanFile(
  file: string,
  parse: LineParser,
  skipped: Skipped,
  opts: ScanOptions = {},
): AsyncGenerator<boolean> {
  const { gzip, size } = await isGzip(file);
  const keep = opts.examples ?? 5;
  const fh = await open(file, 'r');
  const read = gzip ? Buffer.alloc(0) : Buffer.allocUnsafe(READ_CHUNK);
  let bytesRead = 0;
  /**
   * The file's bytes. A plain log is read into one buffer used again and again (it allocates
   * nothing); gunzip may hold on to what it is given, so a gzip'd one gets a buffer per chunk.
   */
  async function* disk(): AsyncGenerator<Buffer> {
    for (;;) {
      const into = gzip ? Buffer.allocUnsafe(READ_CHUNK) : read;
      const r = await fh.read(into, 0, READ_CHUNK, null);
      if (r.bytesRead === 0) return;
      bytesRead += r.bytesRead;
      opts.onProgress?.({ file, bytesRead, totalBytes: size });
      yield into.subarray(0, r.bytesRead);
    }
  }
  let chunks: AsyncIterable<Buffer> = disk();
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    // A read error ends the gunzip stream with it, and so the loop below.
    pipeline(Readable.from(chunks, { objectMode: false }), gunzip, () => {});
    chunks = gunzip;
  }

  let lineNo = 0;
  let good = 0;
  let bad = 0;
  let firstBad: { line: number; reason: string; text: string } | undefined;
  let decided = false;
  const carry = Buffer.allocUnsafe(MAX_LINE_BYTES);
  let carryLen = 0;
  let overlong = false;
  let textBytes = 0;

  const notALog = () => {
    const f = firstBad as { line: number; reason: string; text: string };
    return new UpliftError(
      'UPLIFT_TRAFFIC_LOG_INVALID',
      `${file} is not a transfer log: ${bad} of its first ${good + bad} lines cannot be read; line ${f.line}: ${f.reason}: ${JSON.stringify(f.text)}`,
      {
        location: { file, line: f.line },
        hint: 'give a transfer log in the declared format (xferlog: wu-ftpd/ProFTPD layout, plain or gzip), or correct the format in the profile',
      },
    );
  };
  const decide = () => {
    decided = true;
    if (bad > 0 && bad * 2 > good + bad) throw notALog();
  };
  const line = (buf: Buffer, start: number, end: number) => {
    lineNo++;
    if (end === start || (end === start + 1 && buf[start] === 0x0d)) return;
    const reason = parse(buf, start, end);
    if (reason === undefined) good++;
    else badLine(reason, buf.toString('utf8', start, Math.min(end, start + 120)));
    if (!decided && good + bad >= SAMPLE_LINES) decide();
  };
  /**
   * A file (or an endless device such as /dev/zero) that gave SAMPLE_BYTES without one good line
   * is judged now, whether or not a line has ended in it: the line still open is the bad one.
   */
  const judgeBytes = () => {
    if (decided || good > 0 || textBytes < SAMPLE_BYTES) return;
    if (bad === 0) {
      lineNo++;
      badLine(`no line end in the first ${SAMPLE_BYTES} bytes`, carry.toString('utf8', 0, 120));
    }
    decide();
  };
  const badLine = (reason: string, text: string) => {
    bad++;
    skipped.count++;
    if (firstBad === undefined) firstBad = { line: lineNo, reason, text };
    if (skipped.examples.length < keep) skipped.examples.push({ file, line: lineNo, reason });
  };

  try {
    for await (const chunk of chunks) {
      opts.signal?.throwIfAborted();
      let pos = 0;
      if (carryLen > 0 || overlong) {
        const nl = chunk.indexOf(LF);
        const upTo = nl === -1 ? chunk.length : nl;
        if (!overlong && carryLen + upTo > MAX_LINE_BYTES) overlong = true;
        if (!overlong) {
          chunk.copy(carry, carryLen, 0, upTo);
          carryLen += upTo;
        }
        if (nl === -1) {
          textBytes += chunk.length;
          judgeBytes();
          yield decided;
          continue;
        }
        if (overlong) {
          lineNo++;
          badLine(`longer than ${MAX_LINE_BYTES} bytes`, carry.toString('utf8', 0, 120));
          if (!decided && good + bad >= SAMPLE_LINES) decide();
        } else line(carry, 0, carryLen);
        carryLen = 0;
        overlong = false;
        pos = nl + 1;
      }
      let nl = chunk.indexOf(LF, pos);
      while (nl !== -1) {
        line(chunk, pos, nl);
        pos = nl + 1;
        nl = chunk.indexOf(LF, pos);
      }
      const rest = chunk.length - pos;
      if (rest > MAX_LINE_BYTES) {
        chunk.copy(carry, 0, pos, pos + 120);
        carryLen = 120;
        overlong = true;
      } else if (rest > 0) {
        chunk.copy(carry, 0, pos);
        carryLen = rest;
      }
      textBytes += chunk.length;
      judgeBytes();
      yield decided;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (gzip && code.startsWith('Z_'))
      throw new UpliftError(
        'UPLIFT_TRAFFIC_LOG_INVALID',
        `${file} is not a readable gzip file (${(error as Error).message}) after line ${lineNo}`,
        {
          location: { file, line: lineNo },
          hint: 'give the whole gzip file, or the log it was made from',
          cause: error,
        },
      );
    throw error;
  } finally {
    if (chunks instanceof Readable) chunks.destroy();
    await fh.close();
  }
  if (overlong) {
    lineNo++;
    badLine(`longer than ${MAX_LINE_BYTES} bytes`, carry.toString('utf8', 0, 120));
  } else if (carryLen > 0) line(carry, 0, carryLen);
  if (!decided) decide();
}
