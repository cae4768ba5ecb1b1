import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

/**
 * A change inside the same tick of the filesystem's coarse clock as the stat we recorded leaves
 * every timestamp as it was ("racily clean", as git calls it). An entry whose ctime was this close
 * to the listing, or later, is never trusted to be unchanged: it is compared by content again
 * (copies re-copied, directories re-read).
 */
export const racyMarginMs = 2000;

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256Of(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * A vendor manifest: the release tree's manifest.json that an installation keeps a copy of.
 * `symlinks` and `directories` (empty ones) came with pack format 1.1; a manifest without them
 * has none.
 */
export interface VendorManifest {
  product: string;
  version: string;
  files: VendorFile[];
  symlinks?: VendorLink[];
  directories?: VendorDirectory[];
}

export interface VendorLink {
  path: string;
  target: string;
}

export interface VendorDirectory {
  path: string;
  mode: number;
}

export interface VendorFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
}

/** The entry itself (a link is not followed), or undefined when nothing is there. */
export function lstatOr(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
