import { writeFileDurably } from '../util/index.ts';

export { fsyncDir, previousOf } from '../util/index.ts';

/**
 * Replaces `file` with `bytes` durably (src/util: temp file, fsync, rename, directory fsync), making
 * its folder first. With `keepPrevious`, the old content moves to `<file>.prev` first, so a reader
 * that finds `file` missing or damaged still has the last good copy.
 */
export async function writeDurably(
  file: string,
  bytes: Uint8Array | string,
  opts: { keepPrevious?: boolean; mode?: number } = {},
): Promise<void> {
  await writeFileDurably(file, bytes, { mode: opts.mode ?? 0o644, mkdirs: true, ...opts });
}
