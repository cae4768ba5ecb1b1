import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumFile } from '../backup/index.ts';
import { fsyncDir } from '../util/index.ts';
import type { StatePaths } from './paths.ts';

/** How many runs' backups a committed run keeps by default, itself included. */
export const defaultKeepRuns = 3;

/** `<runId>-<hop>.tar.gz`, and `<runId>-<hop>-installer.tar.gz` for the vendor installer's folder. */
const backupName = /^(\d{8}T\d{6}Z-[0-9a-f]+)-(\d+)(?:-installer)?\.tar\.gz$/;

/**
 * The backup files to remove once run `runId` has committed all of its `hops` hops. Pure.
 *
 * - Of this run, the first hop's backups (the installation as it was before the run) and the last
 *   hop's (what `uplift rollback` falls back to when the old generation is gone) are kept; the
 *   hops in between held states that lasted minutes, and go.
 * - Of earlier runs, those of the newest `keepRuns - 1` runs are kept as they are; older runs go.
 * - Files that are not uplift backups, and runs newer than this one, are never touched.
 */
export function backupsToPrune(
  names: readonly string[],
  runId: string,
  hops: number,
  keepRuns: number,
): string[] {
  const runs = new Map<string, { name: string; hop: number }[]>();
  for (const name of names) {
    const m = backupName.exec(name);
    if (!m) continue;
    const [, run, hop] = m as unknown as [string, string, string];
    runs.set(run, [...(runs.get(run) ?? []), { name, hop: Number(hop) }]);
  }
  const earlier = [...runs.keys()].filter((r) => r < runId).sort();
  const dropRuns = earlier.slice(0, Math.max(0, earlier.length - (keepRuns - 1)));
  const prune = dropRuns.flatMap((r) => (runs.get(r) ?? []).map((b) => b.name));
  for (const b of runs.get(runId) ?? []) if (b.hop !== 0 && b.hop !== hops - 1) prune.push(b.name);
  return prune.sort();
}

/**
 * Removes the backups {@link backupsToPrune} names from the state folder, each with its `.sha256`
 * sidecar; returns the backups' paths.
 */
export async function pruneBackups(
  p: StatePaths,
  runId: string,
  hops: number,
  keepRuns: number,
): Promise<string[]> {
  const names = await readdir(p.backups).catch(() => [] as string[]);
  const removed = backupsToPrune(names, runId, hops, keepRuns).map((n) => join(p.backups, n));
  for (const file of removed) {
    await rm(file, { force: true });
    await rm(checksumFile(file), { force: true });
  }
  if (removed.length > 0) fsyncDir(p.backups);
  return removed;
}
