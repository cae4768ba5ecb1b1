import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { readRegularFile } from '../util/index.ts';

/**
 * The contract for every file of the installation that detection reads (docs/detection.md,
 * "Files detection reads"): it must resolve, through every symbolic link, to a regular file. Links
 * inside the installation are followed. A link leaving it (a configuration file or a data folder
 * an operator moved to another disk) is followed only to a file the installation's owner can read
 * by its mode bits: uplift often runs as root, and an installation's owner must not make it print
 * /etc/shadow. FIFOs, devices and sockets are refused (reading one would wait forever). A path
 * that is absent (or a link to nothing) is `undefined`: each caller says what absence means.
 */
export async function resolveInside(install: string, rel: string): Promise<string | undefined> {
  const file = join(install, rel);
  let real: string;
  let root: string;
  try {
    root = await realpath(install);
    real = await realpath(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(err, file, rel);
  }
  if (real !== root && !real.startsWith(root + sep) && !(await ownerCanRead(root, real)))
    throw new UpliftError(
      'UPLIFT_DETECT_CONFIG',
      `${file} leads outside the installation, to ${real}, which the installation's owner cannot read; detection does not read it`,
      {
        location: { file },
        hint: `give the installation's owner read access to ${real}, or replace the link ${rel} with the file itself`,
        unchanged: true,
      },
    );
  return real;
}

/**
 * Whether the owner of the installation's root can read `target` by its mode bits (its owner's,
 * its group's when the owner's primary group is the file's, or anyone's). Root reads anything.
 */
async function ownerCanRead(root: string, target: string): Promise<boolean> {
  const [owner, st] = await Promise.all([stat(root), stat(target)]);
  if (owner.uid === 0) return true;
  if (st.uid === owner.uid) return (st.mode & 0o400) !== 0;
  if (st.gid === owner.gid) return (st.mode & 0o040) !== 0;
  return (st.mode & 0o004) !== 0;
}

/**
 * A file of the installation as bytes (see resolveInside), or `undefined` when it is absent.
 * Anything else that keeps it from being read is UPLIFT_DETECT_CONFIG naming the file.
 */
export async function readInstallFile(install: string, rel: string): Promise<Buffer | undefined> {
  const real = await resolveInside(install, rel);
  if (real === undefined) return undefined;
  try {
    return await readRegularFile(real);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(err, join(install, rel), rel);
  }
}

/** A file of the installation as text (see readInstallFile and decodeText). */
export async function readInstallText(install: string, rel: string): Promise<string | undefined> {
  const bytes = await readInstallFile(install, rel);
  return bytes === undefined ? undefined : decodeText(bytes, join(install, rel));
}

/**
 * Text from a file's bytes: UTF-8, or UTF-16 (either byte order) when a byte-order mark says so,
 * without the mark. UTF-32 and text holding NUL characters (UTF-16 without a mark, a binary file)
 * are UPLIFT_DETECT_CONFIG: read as UTF-8 they would give no settings, and facts that rest on
 * defaults instead of the file.
 */
export function decodeText(bytes: Buffer, file: string): string {
  const b = bytes;
  const refuse = (what: string) =>
    new UpliftError('UPLIFT_DETECT_CONFIG', `${file} is ${what}; detection reads UTF-8 or UTF-16`, {
      location: { file },
      hint: `save ${file} as UTF-8 (the product writes it so), then run the same command again`,
      unchanged: true,
    });
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0)
    throw refuse('UTF-32 (little-endian byte-order mark)');
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)
    throw refuse('UTF-32 (big-endian byte-order mark)');
  let text: string;
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) text = b.subarray(2).toString('utf16le');
  else if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    const swapped = Buffer.from(b.subarray(2, 2 + ((b.length - 2) & ~1)));
    text = swapped.swap16().toString('utf16le');
  } else text = b.toString('utf8').replace(/^\uFEFF/, '');
  if (text.includes('\0'))
    throw refuse('not text (it holds NUL characters: binary, or UTF-16 without a byte-order mark)');
  return text;
}

/** UPLIFT_DETECT_CONFIG for a file of the installation that is there but cannot be read. */
function unreadable(err: unknown, file: string, rel: string): UpliftError {
  const code = (err as NodeJS.ErrnoException).code;
  const restore = `restore ${rel} from the backup or the release as a regular file`;
  const [why, hint] =
    code === 'ENOTREG'
      ? [`is ${(err as { kind?: string }).kind ?? 'a special file'}, not a regular file`, restore]
      : code === 'EISDIR'
        ? ['is a folder, not a file', restore]
        : code === 'ENOTDIR'
          ? ['cannot be read: a part of its path is a file, not a folder', restore]
          : code === 'ELOOP'
            ? ['cannot be read: its symbolic links loop', restore]
            : [
                `cannot be read (${code ?? (err as Error).message})`,
                'run uplift as the installation owner, or make the file readable',
              ];
  return new UpliftError('UPLIFT_DETECT_CONFIG', `${file} ${why}`, {
    cause: err,
    location: { file },
    hint,
    unchanged: true,
  });
}
