import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { restoreBackup } from '../backup/index.ts';
import { crashPoint, fsyncDir } from '../util/index.ts';
import { type RollbackOutcome, restoreServiceState } from './hop-steps.ts';
import type { Journal } from './journal.ts';
import { linkedDataBeside, restoreLinkedData } from './linked-data.ts';
import { restoreCompanionBackups } from './methods/index.ts';
import { migrationDataGlobs } from './migrate.ts';
import { hopPaths, type StatePaths } from './paths.ts';
import type { Services } from './services.ts';
import { exists } from './tree.ts';

/** The run to take back: its id, the version it started from and what it found the service as. */
export interface RunToUndo {
  runId: string;
  /** The version the run started from: where it is taken back to. */
  from: string;
  wasRunning: boolean;
  /** The version whose service may be running now (a backup restore stops it first). */
  current: string;
}

/**
 * Takes the installation back to the version the run started from, undoing the run's committed
 * hops the way `uplift rollback` undoes one: the first hop's kept old generation swapped back
 * (the installation as it was at the run's first stop), or, when a later commit removed it, the
 * first hop's backup restored. The one home of the rule "a run ends on its start or its target":
 * apply calls it when a hop after a committed one fails, resume when a resumed run's hop fails or
 * with `--abort`. The decision is journaled (`rollback` at hop -1, `undo: run`) before anything
 * moves and followed again after a crash. Idempotent; leaves the service as the run found it
 * (UPLIFT_APPLY_SERVICE_DOWN when the old version does not come up).
 */
export async function undoRun(
  p: StatePaths,
  j: Journal,
  run: RunToUndo,
  svc: Services,
  onEvent?: (s: string) => void,
): Promise<RollbackOutcome> {
  const earlier = j.records.find(
    (r) => r.hop === -1 && r.step === 'rollback' && r.state === 'begin' && r.data.undo === 'run',
  )?.data as { old: string | null; backup: string; keptAs: string } | undefined;
  let d = earlier;
  if (!d) {
    const first = hopPaths(p, run.runId, 0);
    d = {
      old: (await exists(first.old)) ? first.old : null,
      backup: first.backup,
      keptAs: join(p.dir, `gen-${run.runId}-aborted`),
    };
    await j.append(-1, 'rollback', 'begin', { undo: 'run', ...d, to: run.from });
  }
  onEvent?.(
    `take the run back to ${run.from} (${d.old ? 'the old generation kept at its first hop' : "its first hop's backup"})`,
  );
  await swapBack(p, svc, d, run.current);
  await j.append(-1, 'rollback', 'done', { undo: 'run' });
  return restoreServiceState({ wasRunning: run.wasRunning, version: run.from, svc, onEvent });
}

/**
 * Puts an earlier state of the installation back: the kept generation `old` renamed into place
 * (what is there now kept as `keptAs`), or, without one, the backup restored. Idempotent.
 */
export async function swapBack(
  p: StatePaths,
  svc: Services,
  d: { old: string | null; backup: string; keptAs: string },
  runningVersion: string,
): Promise<void> {
  const install = p.install;
  if (d.old) {
    if (await exists(d.old)) {
      if ((await exists(install)) && (await svc.isRunning()))
        await svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED' });
      // What the hop's migrations wrote behind a data link goes back first, the service stopped
      // (again after a crash: the record goes only once the data is back on disk).
      restoreLinkedData(linkedDataBeside(d.old));
      if (await exists(install)) {
        await rm(d.keptAs, { recursive: true, force: true });
        await rename(install, d.keptAs);
        crashPoint('rollback:between');
      }
      await rename(d.old, install);
      fsyncDir(dirname(install));
      await rm(linkedDataBeside(d.old), { recursive: true, force: true });
      fsyncDir(p.dir);
    }
    return;
  }
  await restoreBackup({
    backup: d.backup,
    install,
    service: svc.control(runningVersion),
    stop: true,
    start: false,
    // What the backup holds behind a data link goes back too (the hop's backup step backs it up).
    data: migrationDataGlobs(svc.profile.manifest.paths),
  });
  await restoreCompanionBackups(d.backup);
}

/**
 * Where an {@link undoRun} that failed left the installation, measured, in words for the error:
 * `inPlace` is the version the failed hop was rolled back to, `from` the run's start.
 */
export async function stateAfterFailedUndo(
  p: StatePaths,
  j: Journal,
  inPlace: string,
  from: string,
): Promise<string> {
  const d = j.records.find(
    (r) => r.hop === -1 && r.step === 'rollback' && r.state === 'begin' && r.data.undo === 'run',
  )?.data as { old: string | null; backup: string } | undefined;
  if (!d) return `the files of ${inPlace} are in place`;
  if (!d.old)
    return `the restore of ${d.backup} stopped part-way: the files in ${p.install} are those of ${inPlace} or of ${from}`;
  const there = await exists(p.install);
  if (await exists(d.old))
    return there
      ? `the files of ${inPlace} are in place; those of ${from} are kept in ${d.old}`
      : `${p.install} is missing (between the two renames of the swap); the files of ${from} are in ${d.old}`;
  return there ? `the files of ${from} are in place` : `${p.install} is missing`;
}
