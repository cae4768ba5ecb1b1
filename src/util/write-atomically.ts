import { unwritablePathError } from '../errors/index.ts';
import { writeFileDurably } from './durable.ts';
import { refuseNonRegularTarget } from './regular-file.ts';

/**
 * Writes a whole file or nothing (reports, `--out` files): a durable replace, readable by all.
 * Missing folders are made; a path that cannot hold the file (a parent that is a file, a folder
 * at the path, no permission; a device, FIFO or link at the path, which the rename would replace)
 * is the user's input, reported as UPLIFT_PATH_UNWRITABLE.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  try {
    await refuseNonRegularTarget(file);
    await writeFileDurably(file, text, { mode: 0o644, mkdirs: true });
  } catch (err) {
    throw unwritablePathError(err, file) ?? err;
  }
}
