import { readBackup } from './read-archive.ts';
import type { BackupManifest, ProgressListener } from './types.ts';

export interface VerifyResult {
  file: string;
  ok: true;
  id: string;
  installation: string;
  productVersion: string | null;
  created: string;
  consistency: BackupManifest['consistency'];
  totals: BackupManifest['totals'];
  /** Format /2: what is behind each data link, as backed up (the link, its text, its totals). */
  behind: { path: string; target: string; totals: BackupManifest['totals'] }[];
  archiveBytes: number;
  sha256: string;
  /** `matched`: the archive's SHA-256 equals its `.sha256` sidecar; `absent`: there is no sidecar, only the content was checked. */
  checksum: 'matched' | 'absent';
  seconds: number;
}

/**
 * Re-reads a whole backup and checks every entry against the manifest (type, size, SHA-256, link
 * target), and the archive's SHA-256 against its `.sha256` sidecar when there is one. Resolves only
 * when all agree; otherwise throws a coded error naming the entry or the
 * place of the damage (UPLIFT_BACKUP_CORRUPT, _TRUNCATED, _ENTRY_MISMATCH, _NOT_A_BACKUP).
 */
export async function verifyBackup(
  file: string,
  onProgress?: ProgressListener,
): Promise<VerifyResult> {
  const started = performance.now();
  const r = await readBackup(file, {}, onProgress, 'verify');
  return {
    file,
    ok: true,
    id: r.manifest.id,
    installation: r.manifest.installation,
    productVersion: r.manifest.productVersion,
    created: r.manifest.created,
    consistency: r.manifest.consistency,
    totals: r.manifest.totals,
    behind: (r.manifest.behind ?? []).map((b, i) => ({
      path: b.path,
      target: r.manifest.behindLinks?.[i]?.target ?? '',
      totals: b.totals,
    })),
    archiveBytes: r.archiveBytes,
    sha256: r.archiveSha256,
    checksum: r.checksum,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}
