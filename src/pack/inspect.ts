import { packError } from './errors.ts';
import { parseManifest, parseSignature, readHead } from './read-head.ts';
import type { PackManifest } from './schema.ts';
import { openPack } from './verify.ts';

export interface InspectResult {
  manifest: PackManifest;
  /** The key the pack says signed it. Not checked: inspection is not verification. */
  keyid: string;
  signature: 'not-checked';
  /** Size of the whole file. */
  bytes: number;
  /** Whether the file's size is exactly header + manifest + signature + payload.bytes. */
  sizeMatches: boolean;
}

/**
 * Reads only the header, manifest and signature envelope of a pack, for people and scripts to look
 * at. Nothing is checked against a trust set and the payload is not read: use verifyPack for that.
 */
export async function inspectPack(file: string): Promise<InspectResult> {
  const fh = await openPack(file);
  try {
    const total = (await fh.stat()).size;
    const head = await readHead(fh, file, total);
    const sig = parseSignature(file, head);
    const manifest = parseManifest(file, head.manifestBytes);
    return {
      manifest,
      keyid: sig.keyid,
      signature: 'not-checked',
      bytes: total,
      sizeMatches: total === head.payloadAt + manifest.payload.bytes,
    };
  } catch (err) {
    throw err instanceof Error ? err : packError('UPLIFT_PACK_NOT_A_PACK', file, String(err));
  } finally {
    await fh.close();
  }
}
