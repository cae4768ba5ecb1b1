/**
 * The byte layout of a pack file (docs/pack-format.md):
 *
 *   offset 0   8 bytes  magic "UPLIFTPK"
 *          8   2 bytes  format version, uint16 big-endian (1)
 *         10   2 bytes  reserved, zero
 *         12   4 bytes  manifest length M, uint32 big-endian
 *         16   4 bytes  signature length S, uint32 big-endian
 *         20   M bytes  manifest (UTF-8 JSON, PackManifest)
 *     20 + M   S bytes  signature envelope (JSON { keyid, sig }: ed25519 over the exact manifest bytes)
 * 20 + M + S   …        payload: payload.bytes of zstd-compressed tar, then end of file
 */
export const magic = Buffer.from('UPLIFTPK', 'latin1');
export const formatVersion = 1;
export const headerBytes = 20;
/** Caps checked before a length is trusted enough to read that many bytes. */
export const maxManifestBytes = 16 << 20;
export const maxSignatureBytes = 1024;
/** Reserved payload prefix for migration and hook scripts; no installation file may live there. */
export const scriptPrefix = '.uplift-pack/';

export interface PackHeader {
  version: number;
  manifestBytes: number;
  signatureBytes: number;
}

export function encodeHeader(manifestBytes: number, signatureBytes: number): Buffer {
  const b = Buffer.alloc(headerBytes);
  magic.copy(b, 0);
  b.writeUInt16BE(formatVersion, 8);
  b.writeUInt32BE(manifestBytes, 12);
  b.writeUInt32BE(signatureBytes, 16);
  return b;
}

/** Where each part starts, from a decoded header. */
export function layoutOf(h: PackHeader): { manifest: number; signature: number; payload: number } {
  return {
    manifest: headerBytes,
    signature: headerBytes + h.manifestBytes,
    payload: headerBytes + h.manifestBytes + h.signatureBytes,
  };
}
