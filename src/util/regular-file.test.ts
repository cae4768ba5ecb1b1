import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRegularFile, refuseNonRegularTarget } from './regular-file.ts';
import { writeAtomically } from './write-atomically.ts';

let d: string;
let fifo: string;

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'uplift-regular-'));
  fifo = join(d, 'fifo');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(join(d, 'file'), 'text\n');
  mkdirSync(join(d, 'folder'));
  symlinkSync(join(d, 'file'), join(d, 'link'));
});

describe('readRegularFile', () => {
  it('reads a regular file, through a link too', async () => {
    expect(await readRegularFile(join(d, 'file'), 'utf8')).toBe('text\n');
    expect((await readRegularFile(join(d, 'link'))).toString()).toBe('text\n');
  });

  it('refuses a FIFO nobody writes to at once (ENOTREG), where readFile would wait forever', async () => {
    await expect(readRegularFile(fifo, 'utf8')).rejects.toMatchObject({
      code: 'ENOTREG',
      message: `${fifo} is a FIFO, not a regular file`,
    });
  });

  it('refuses a device (ENOTREG), a folder (EISDIR) and a missing file (ENOENT)', async () => {
    await expect(readRegularFile('/dev/zero')).rejects.toMatchObject({ code: 'ENOTREG' });
    await expect(readRegularFile(join(d, 'folder'))).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(readRegularFile(join(d, 'none'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('an output path that is not a regular file', () => {
  it.each([
    ['a FIFO', () => fifo],
    ['a symbolic link', () => join(d, 'link')],
    ['a device', () => '/dev/full'],
  ])('is refused as %s and left as it is', async (_what, path) => {
    const before = lstatSync(path());

    await expect(refuseNonRegularTarget(path())).rejects.toMatchObject({ code: 'ENOTREG' });
    await expect(writeAtomically(path(), 'report\n')).rejects.toMatchObject({
      code: 'UPLIFT_PATH_UNWRITABLE',
      exitCode: 2,
    });

    const after = lstatSync(path());
    expect([after.ino, after.mode, after.rdev]).toEqual([before.ino, before.mode, before.rdev]);
    expect(readFileSync(join(d, 'file'), 'utf8')).toBe('text\n');
  });

  it('a missing path or a regular file passes', async () => {
    await refuseNonRegularTarget(join(d, 'none'));
    await refuseNonRegularTarget(join(d, 'file'));
    await writeAtomically(join(d, 'file'), 'new\n');
    expect(readFileSync(join(d, 'file'), 'utf8')).toBe('new\n');
  });
});
