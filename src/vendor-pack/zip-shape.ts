import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { UpliftError, type UpliftErrorDetail } from '../errors/index.ts';

/**
 * Reads a vendor pack's central directory (nothing is extracted) and checks it: safe entry names,
 * regular files and folders only, no encryption, bounded entry count and declared sizes, and the
 * documented shape: `UpgradeStep1/` holds the installer update and `UpgradeStep2/` the product update.
 */

/** The two folders the upgrade guide names, and what each holds. */
export const upgradeSteps = [
  { folder: 'UpgradeStep1', holds: 'installer update' },
  { folder: 'UpgradeStep2', holds: 'product update' },
] as const;

export interface ZipLimits {
  /** Most entries a pack may have (default 10,000; the vendor's packs hold a handful). */
  maxEntries: number;
  /** Most uncompressed bytes the entries may declare together (default 16 GiB). */
  maxUncompressedBytes: number;
  /** Longest entry name, in bytes (default 1,024). */
  maxNameBytes: number;
}

export const defaultZipLimits: ZipLimits = {
  maxEntries: 10_000,
  maxUncompressedBytes: 16 * 1024 ** 3,
  maxNameBytes: 1024,
};

export interface VendorPackStepFile {
  /** Path inside the zip. */
  path: string;
  size: number;
  compressedSize: number;
}

export interface VendorPackStep {
  folder: 'UpgradeStep1' | 'UpgradeStep2';
  holds: 'installer update' | 'product update';
  files: VendorPackStepFile[];
}

export interface ZipShape {
  entries: number;
  uncompressedBytes: number;
  steps: VendorPackStep[];
}

/** Deflate cannot expand better than about 1032:1; a header that claims more is lying. */
const deflateMaxRatio = 1032;

/**
 * Lets yauzl read through a file handle the caller owns: the same open file that was hashed (so a
 * file swapped meanwhile cannot slip in), and never closed behind the caller's back (yauzl's own
 * fd reader closes the descriptor when it is done with it).
 */
class HandleReader extends yauzl.RandomAccessReader {
  readonly #handle: FileHandle;
  constructor(handle: FileHandle) {
    super();
    this.#handle = handle;
  }
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    readFully(this.#handle, buffer, offset, length, position).then(
      () => callback(null),
      (err: Error) => callback(err),
    );
  }
  override _readStreamForRange(): Readable {
    throw new Error('vendor pack entries are never extracted here');
  }
  override close(callback: (err: Error | null) => void): void {
    setImmediate(() => callback(null));
  }
}

async function readFully(
  handle: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
  }
}

/** Reads and checks the central directory of the zip open on `handle` (which stays open). */
export async function readVendorZipShape(
  handle: FileHandle,
  file: string,
  limits: ZipLimits = defaultZipLimits,
): Promise<ZipShape> {
  const bad = (message: string, hint: string, details?: UpliftErrorDetail[]) =>
    new UpliftError('UPLIFT_VENDOR_PACK_BAD_ZIP', `${file}: ${message}`, {
      location: { file },
      hint,
      details,
      // Reading the zip's directory changes nothing.
      unchanged: true,
    });
  const { size } = await handle.stat();
  const zip = await yauzl
    .fromRandomAccessReaderPromise(new HandleReader(handle), size, {
      lazyEntries: true,
      autoClose: false,
      // Names are decoded and checked here, both the stored name and any Unicode path field.
      decodeStrings: false,
      validateEntrySizes: true,
      strictFileNames: true,
    })
    .catch((cause: unknown) => {
      throw bad(
        `is not a readable zip (${errorText(cause)})`,
        'download the pack again from the vendor; the file is damaged or is not a zip',
      );
    });
  if (zip.entryCount > limits.maxEntries)
    throw bad(
      `holds ${zip.entryCount} entries, more than the ${limits.maxEntries} a vendor pack may have`,
      'this is not one of the vendor’s upgrade packs; download the pack again',
    );

  const problems: UpliftErrorDetail[] = [];
  const problem = (message: string) => {
    if (problems.length < 50) problems.push({ message, location: { file } });
  };
  const seen = new Map<string, string>();
  const steps = upgradeSteps.map(
    (s): VendorPackStep => ({ folder: s.folder, holds: s.holds, files: [] }),
  );
  let uncompressedBytes = 0;
  let entries = 0;

  try {
    for await (const entry of entriesOf(zip)) {
      entries++;
      const raw = entry.fileName as unknown as Buffer;
      if (raw.length > limits.maxNameBytes) {
        problem(`entry ${entries} has a ${raw.length}-byte name (at most ${limits.maxNameBytes})`);
        continue;
      }
      const utf8 = (entry.generalPurposeBitFlag & 0x800) !== 0;
      // Checked on the bytes: CP437 decoding turns control bytes into printable glyphs.
      const controlByte = raw.some((b) => b < 0x20 || b === 0x7f);
      const stored = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, [], true);
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        raw,
        entry.extraFields,
        true,
      );
      const shown = JSON.stringify(name);
      const nameProblem =
        (controlByte ? 'contains a NUL or control character' : undefined) ??
        (utf8 && !Buffer.from(stored, 'utf8').equals(raw) ? 'is not valid UTF-8' : undefined) ??
        entryNameProblem(stored) ??
        (name === stored ? undefined : entryNameProblem(name)) ??
        yauzl.validateFileName(name) ??
        undefined;
      if (nameProblem) {
        problem(
          `entry ${JSON.stringify(stored)}${name === stored ? '' : ` (${shown})`} ${nameProblem}`,
        );
        continue;
      }
      const key = name.normalize('NFC').toLowerCase();
      const twin = seen.get(key);
      if (twin !== undefined) {
        problem(
          twin === name
            ? `entry ${shown} appears twice`
            : `entries ${JSON.stringify(twin)} and ${shown} differ only in case and would overwrite each other`,
        );
        continue;
      }
      seen.set(key, name);
      if (entry.isEncrypted()) problem(`entry ${shown} is encrypted`);
      const isDir = name.endsWith('/');
      const typeProblem = entryTypeProblem(entry.externalFileAttributes, isDir);
      if (typeProblem) problem(`entry ${shown} ${typeProblem}`);
      if (isDir && entry.uncompressedSize > 0)
        problem(`folder entry ${shown} declares ${entry.uncompressedSize} bytes of content`);
      if (
        entry.compressionMethod === 8 &&
        entry.uncompressedSize > (entry.compressedSize + 1) * deflateMaxRatio
      )
        problem(
          `entry ${shown} claims ${entry.uncompressedSize} bytes from ${entry.compressedSize} compressed (more than deflate can expand: a zip bomb)`,
        );
      uncompressedBytes += entry.uncompressedSize;
      if (uncompressedBytes > limits.maxUncompressedBytes) {
        problem(
          `the entries declare more than ${limits.maxUncompressedBytes} bytes uncompressed in total`,
        );
        break;
      }
      const top = name.split('/')[0] ?? '';
      const step = steps.find((s) => s.folder === top && name.length > top.length);
      if (!step) {
        problem(`entry ${shown} lies outside UpgradeStep1/ and UpgradeStep2/`);
        continue;
      }
      if (!isDir && !typeProblem)
        step.files.push({
          path: name,
          size: entry.uncompressedSize,
          compressedSize: entry.compressedSize,
        });
    }
  } catch (cause) {
    throw bad(
      `has a damaged central directory (${errorText(cause)})`,
      'download the pack again from the vendor; the file is damaged',
    );
  } finally {
    zip.close();
  }

  for (const s of steps) {
    if (!s.files.some((f) => f.size > 0))
      problem(`${s.folder}/ holds no ${s.holds} file (the vendor's packs hold one in each step)`);
  }
  const first = problems[0];
  if (first) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw bad(
      `${first.message}${more}`,
      'do not unzip or use this file; download the pack again from the vendor and verify it before use',
      problems,
    );
  }
  return { entries, uncompressedBytes, steps };
}

/** Our own rules for a name inside a vendor pack; undefined when the name is safe. */
export function entryNameProblem(name: string): string | undefined {
  if (name === '') return 'has an empty name';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains a NUL or control character';
  if (name.includes('\\')) return 'contains a backslash';
  if (/^[a-zA-Z]:/.test(name)) return 'starts with a drive letter';
  if (name.startsWith('/')) return 'is an absolute path';
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) return 'climbs out with ".."';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  return undefined;
}

const S_IFMT = 0o170000;
const fileTypes = new Map<number, string | undefined>([
  [0, undefined],
  [0o100000, undefined],
  [0o040000, undefined],
  [0o120000, 'is a symbolic link'],
  [0o020000, 'is a character device'],
  [0o060000, 'is a block device'],
  [0o010000, 'is a FIFO'],
  [0o140000, 'is a socket'],
]);

/**
 * The Unix mode sits in the high 16 bits of the external attributes (Info-ZIP). It is read
 * whatever the "made by" host says, since unzip honours it on Unix.
 */
function entryTypeProblem(externalAttributes: number, isDir: boolean): string | undefined {
  const mode = externalAttributes >>> 16;
  const type = mode & S_IFMT;
  if (!fileTypes.has(type)) return `has an unknown file type (mode ${mode.toString(8)})`;
  const problem = fileTypes.get(type);
  if (problem) return problem;
  if (mode & 0o7000)
    return `has set-user-ID, set-group-ID or sticky bits (mode ${mode.toString(8)})`;
  if (type === 0o040000 && !isDir) return 'is marked a folder but its name does not end in "/"';
  if (type === 0o100000 && isDir) return 'is marked a file but its name ends in "/"';
  return undefined;
}

async function* entriesOf(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  // yauzl's own iterator reads one entry at a time under lazyEntries.
  for await (const entry of zip.eachEntry()) yield entry;
}

function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
