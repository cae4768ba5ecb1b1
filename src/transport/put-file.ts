import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UpliftError } from '../errors/index.ts';
import type { PutOptions } from './types.ts';

/**
 * The few operations a copy needs from where it writes: the same resumable, hash-checked copy
 * runs over SFTP and on this machine's filesystem.
 */
export interface PartTarget {
  /** Size of a file, undefined when there is none. */
  size(path: string): Promise<number | undefined>;
  /** SHA-256 (hex) of a file of `size` bytes as the node reads it. */
  sha256(path: string, size: number): Promise<string>;
  /**
   * Writes bytes `start..end` of `local` at the same offset of `path`; `start` 0 creates or
   * truncates it. `onBytes` is called with each run of bytes written.
   */
  writeFrom(
    local: string,
    path: string,
    start: number,
    onBytes: (n: number) => void,
  ): Promise<void>;
  remove(path: string): Promise<void>;
  /** Replaces `to` with `from` in one step. */
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
}

/** SHA-256 of the first `length` bytes of a local file (all of it when undefined). */
export async function hashLocal(file: string, length?: number): Promise<string> {
  const hash = createHash('sha256');
  if (length === 0) return hash.digest('hex');
  const end = length === undefined ? undefined : length - 1;
  for await (const chunk of createReadStream(file, { end })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Copies `local` to `remote` through `<remote>.part`: an existing part whose bytes are a prefix of
 * the local file is continued from its end, any other is rewritten; the finished part must hash
 * to `o.sha256` as read on the node, or it is removed and the copy fails; then one rename puts it
 * in place, so `remote` is never a partial file.
 */
export async function putThrough(
  target: PartTarget,
  label: string,
  local: string,
  remote: string,
  o: PutOptions,
): Promise<{ bytes: number; resumedFrom: number }> {
  const total = (await stat(local)).size;
  const localHash = await hashLocal(local);
  if (localHash !== o.sha256)
    throw new UpliftError(
      'UPLIFT_TRANSPORT_HASH_MISMATCH',
      `${local} hashes to sha256 ${localHash}, not the ${o.sha256} it should have; nothing was copied to ${label}`,
      { hint: 'The local file changed or is damaged: build or fetch it again.', unchanged: true },
    );
  const part = `${remote}.part`;
  let start = 0;
  const have = await target.size(part);
  if (have !== undefined && have > 0 && have <= total) {
    const [theirs, ours] = await Promise.all([target.sha256(part, have), hashLocal(local, have)]);
    if (theirs === ours) start = have;
  }
  let done = start;
  o.onProgress?.(done, total);
  if (start < total || have === undefined || start === 0)
    await target.writeFrom(local, part, start, (n) => {
      done += n;
      o.onProgress?.(done, total);
    });
  const arrived = await target.sha256(part, total);
  if (arrived !== o.sha256) {
    await target.remove(part);
    throw new UpliftError(
      'UPLIFT_TRANSPORT_HASH_MISMATCH',
      `${label}:${part} hashes to sha256 ${arrived} on arrival, not ${o.sha256}; the copy was removed`,
      {
        hint: "Run again to copy it afresh; if it fails again, check the node's disk and the network path.",
      },
    );
  }
  if (o.mode !== undefined) await target.chmod(part, o.mode);
  await target.rename(part, remote);
  return { bytes: total - start, resumedFrom: start };
}
