import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/**
 * The error of a path that is there but is not a regular file (a FIFO, a device, a socket), with
 * code `ENOTREG` and `kind` (kindOf's words): reading a FIFO nobody writes to would wait forever,
 * and a device has no end.
 */
export function notRegularError(
  path: string,
  kind: string,
): NodeJS.ErrnoException & { kind: string } {
  return Object.assign(new Error(`${path} is ${kind}, not a regular file`), {
    code: 'ENOTREG',
    path,
    kind,
  });
}

/** What a path that is not a regular file is, in words, for the messages. */
export function kindOf(st: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'of an unknown type';
}

/**
 * Reads a whole file the user or an installation names, refusing anything but a regular file
 * (through links): opened without blocking, so a FIFO is refused (ENOTREG) instead of waiting for
 * a writer, and checked by fstat before a byte is read. A folder is EISDIR, as readFile's; a file
 * over `maxBytes` is EFBIG, refused before it is read.
 */
export async function readRegularFile(
  path: string,
  encoding?: undefined,
  o?: ReadOptions,
): Promise<Buffer>;
export async function readRegularFile(
  path: string,
  encoding: BufferEncoding,
  o?: ReadOptions,
): Promise<string>;
export async function readRegularFile(
  path: string,
  encoding?: BufferEncoding,
  o: ReadOptions = {},
): Promise<Buffer | string> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (st.isDirectory())
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), {
        code: 'EISDIR',
        path,
      });
    if (!st.isFile()) throw notRegularError(path, kindOf(st));
    if (o.maxBytes !== undefined && st.size > o.maxBytes)
      throw Object.assign(new Error(`${path} is larger than ${o.maxBytes} bytes`), {
        code: 'EFBIG',
        path,
      });
    return encoding === undefined ? await fh.readFile() : await fh.readFile(encoding);
  } finally {
    await fh.close();
  }
}

export interface ReadOptions {
  /** Refuse (EFBIG) a file larger than this many bytes. */
  maxBytes?: number;
}

/**
 * Refuses an output path that exists and is not a regular file: writing by temp file and rename
 * would replace a device (`--out /dev/null` as root), a FIFO or a symbolic link with a file.
 * A missing path passes.
 */
export async function refuseNonRegularTarget(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined || st.isFile() || st.isDirectory()) return;
  throw notRegularError(path, kindOf(st));
}
