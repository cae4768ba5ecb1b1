import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { shellWord, UpliftError } from '../../errors/index.ts';
import type { PackManifest } from '../../pack/index.ts';
import type { PlanStep } from '../../plan/index.ts';
import { crashPoint, fsyncDir, syncTree } from '../../util/index.ts';
import { type CarriedEntries, type CarryOptions, carryChangesSince } from '../carry.ts';
import { stageChain } from '../dry-run.ts';
import {
  backupStep,
  commitStep,
  type HopContext,
  hopEvents,
  postSwitchSteps,
  probeStep,
  type RollbackContext,
  type RollbackOutcome,
  rollBack,
  smokeStep,
  startStep,
  stopStep,
  timed,
} from '../hop-steps.ts';
import {
  dataLinks,
  keepLinkedData,
  keepWithGeneration,
  linkedDataBeside,
  restoreLinkedData,
} from '../linked-data.ts';
import { migrationDataGlobs, runHooks, runMigrations } from '../migrate.ts';
import { hopPaths, type StatePaths, versionSlug } from '../paths.ts';
import { changedSinceStaging, type StageResult } from '../stage.ts';
import { type StagedHop, stageHop, type VerifiedPack, verifyHopPack } from '../stage-hop.ts';
import { exists } from '../tree.ts';
import type { ApplyOptions } from '../types.ts';

/**
 * The `uplift-pack` hop method: uplift's own signed packs. verify → stage (the new version built
 * beside the installation while the service runs, the customer's changes merged and carried) →
 * backup → stop → switch (two renames) → migrate (+ the profile's post-switch steps) → start →
 * probe (readiness and stability) → smoke → commit. See docs/apply.md.
 */

function wrapStageError(err: unknown, where: string): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'EFBIG')
    return new UpliftError('UPLIFT_APPLY_NO_SPACE', `${where}: ${e.message}`, {
      cause: err,
      hint: 'Free space beside the installation (the new version is prepared there), then run the same apply command again.',
      unchanged: true,
    });
  return new UpliftError('UPLIFT_APPLY_STAGE_FAILED', `${where}: ${e.message}`, {
    cause: err,
    hint: 'Fix the cause, then run the same apply command again; the installation was not changed.',
    unchanged: true,
  });
}

/**
 * The installation's links the profile declares as data (`paths.data`; a pack's migrations may
 * name a database through them), from what the carry listed.
 */
function linkedDataOf(o: ApplyOptions, carried: CarriedEntries | undefined): string[] {
  const paths = o.profile.manifest.paths as
    | { data?: readonly string[]; databases?: readonly string[] }
    | undefined;
  const links = [...(carried?.entries ?? [])].filter(([, s]) => s.how === 'symlink');
  return dataLinks(
    links.map(([path]) => path),
    [...(paths?.data ?? []), ...(paths?.databases ?? [])],
  );
}

/**
 * Before a run of several hops: every hop staged in a chain beside the installation, as the dry
 * run does, so that a later hop's conflict is reported (and its proposed files written) before the
 * first hop goes in, not after the run had to be taken back. One hop needs none: its own staging
 * comes before anything changes.
 */
export async function precheckHops(
  o: ApplyOptions,
  p: StatePaths,
  runId: string,
  hops: readonly PlanStep[],
): Promise<void> {
  if (hops.length < 2) return;
  const conflict = await stageChain(o, hops);
  if (conflict)
    throw await conflictError(
      p,
      runId,
      o,
      { from: conflict.step.from as string, to: conflict.step.to as string },
      conflict.staged,
    );
}

export async function runHop(ctx: HopContext): Promise<void> {
  const { o, p, j, hop, report } = ctx;
  const hp = hopPaths(p, j.runId, hop);
  const ev = hopEvents(ctx);
  const hs = { install: o.install, stage: hp.stage, pack: hp.pack, tree: hp.tree };
  let verified: VerifiedPack | undefined;
  let staged: StageResult | undefined;
  let carry: CarryOptions | undefined;
  let carried: CarriedEntries | undefined;

  ev('verify the pack');
  await timed(
    ctx,
    'verify',
    false,
    () => ({ sha256: verified?.sha256, keyid: verified?.keyid, kind: verified?.manifest.kind }),
    async () => {
      await mkdir(hp.stage, { mode: 0o700 });
      verified = await verifyHopPack(o, ctx.step, report.pack, hs);
      report.kind = verified.manifest.kind;
    },
  );
  const manifest = (verified as { manifest: PackManifest }).manifest;

  ev('stage the new version (the service keeps running)');
  await timed(
    ctx,
    'stage',
    false,
    () => ({ counts: staged?.counts, merges: staged?.merges.length }),
    async () => {
      try {
        const h = await stageHop(o, p, hs, manifest);
        staged = h.staged;
        report.counts = staged.counts;
        report.merges = staged.merges;
        if (staged.conflicts.length > 0) throw await conflictError(p, j.runId, o, report, h);
        carry = h.carry;
        carried = h.carried;
        // Flush the staged tree now, while the service still runs: the switch (downtime) then
        // only writes and fsyncs what changed since.
        syncTree(hp.tree);
      } catch (err) {
        throw wrapStageError(err, 'staging the new version');
      }
    },
  );
  const stagedResult = staged as StageResult;

  ev('back up the installation');
  await backupStep(ctx, [{ dir: o.install, out: hp.backup }], 'the switch', {
    file: hp.backup,
  });

  const hooks = (phase: PackManifest['hooks'][number]['phase']) =>
    runHooks(o.install, hp.pack, manifest, phase, report.migrations);
  await stopStep(ctx, hooks);

  ev('switch to the new version');
  await timed(
    ctx,
    'switch',
    true,
    () => ({ old: hp.old, tree: hp.tree, linkedData: linkedDataOf(o, carried) }),
    async () => {
      const parts: Record<string, number> = {};
      let lap = performance.now();
      const part = (name: string) => {
        const now = performance.now();
        parts[name] = Math.round(now - lap) / 1000;
        lap = now;
      };
      report.switchParts = parts;
      const changed = await changedSinceStaging(
        o.install,
        stagedResult.inputs,
        stagedResult.inputsReadAt,
      );
      part('check');
      if (changed.length > 0)
        throw new UpliftError(
          'UPLIFT_APPLY_STAGE_FAILED',
          `files changed after staging: ${changed.slice(0, 10).join(', ')}`,
          {
            hint: 'Do not edit the installation while apply runs; run the same apply command again (it merges the new edits).',
          },
        );
      // Carries (and fsyncs) only what changed since staging carried the customer entries.
      carryChangesSince(carry as CarryOptions, carried as CarriedEntries);
      part('carry');
      // The one write through a customer link a hop makes is its migrations' into a link the
      // profile declares as data: what it points to is kept first, for the rollback.
      keepLinkedData(o.install, hp.stage, linkedDataOf(o, carried));
      part('keep-linked-data');
      await rename(o.install, hp.old);
      crashPoint('switch:between');
      await rename(hp.tree, o.install);
      fsyncDir(dirname(o.install));
      fsyncDir(p.dir);
      part('rename');
      report.old = hp.old;
    },
  );

  ev('migrate configuration and database');
  await timed(
    ctx,
    'migrate',
    true,
    () => ({ ...report.migrations }),
    async () => {
      await runMigrations(
        o.install,
        hp.old,
        hp.pack,
        manifest,
        report.migrations,
        migrationDataGlobs(o.profile.manifest.paths),
      );
      await hooks('before-start');
      report.migrations.hooks.push(...(await postSwitchSteps(ctx)).map((n) => `post-switch: ${n}`));
    },
  );

  await startStep(ctx, () => hooks('after-start'));
  await probeStep(ctx);
  await smokeStep(ctx);

  await commitStep(ctx, { old: hp.old, backup: hp.backup }, () =>
    finishCommit(p, j.runId, hop, report.from, report.to),
  );
}

/**
 * What a commit leaves (idempotent: resume calls it again after a crash): the new version's
 * pristine vendor tree kept as the next merge base, staging removed, older generations removed
 * (this hop's old generation stays for `uplift rollback`).
 */
export async function finishCommit(
  p: StatePaths,
  runId: string,
  hop: number,
  from: string,
  to: string,
): Promise<void> {
  const hp = hopPaths(p, runId, hop);
  const pristineNew = join(hp.stage, 'vendor');
  const dest = join(p.vendor, versionSlug(to));
  if (await exists(pristineNew)) {
    await mkdir(p.vendor, { recursive: true, mode: 0o700 });
    await rm(dest, { recursive: true, force: true });
    await rename(pristineNew, dest);
  }
  keepWithGeneration(hp.stage, hp.old);
  await rm(hp.stage, { recursive: true, force: true });
  const keep = new Set([versionSlug(from), versionSlug(to)]);
  for (const name of await readdir(p.vendor).catch(() => [] as string[]))
    if (!keep.has(name)) await rm(join(p.vendor, name), { recursive: true, force: true });
  const mine = basename(hp.old);
  for (const name of await readdir(p.dir))
    if (
      (name.startsWith('gen-') && name !== mine && name !== basename(linkedDataBeside(hp.old))) ||
      (name.startsWith('stage-') && !name.startsWith(`stage-${runId}-`))
    )
      await rm(join(p.dir, name), { recursive: true, force: true });
  fsyncDir(p.dir);
}

async function conflictError(
  p: StatePaths,
  runId: string,
  o: ApplyOptions,
  hop: { from: string; to: string },
  { staged, base }: StagedHop,
): Promise<UpliftError> {
  const dir = join(p.conflicts, runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const c of staged.conflicts) {
    if (!c.content) continue;
    const f = join(dir, `${c.path}.proposed`);
    await mkdir(dirname(f), { recursive: true });
    await writeFile(f, c.content);
  }
  const report = staged.conflicts.map((c) => ({
    path: c.path,
    conflicts: c.conflicts,
    proposed: join(dir, `${c.path}.proposed`),
  }));
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const where = `the proposed files in ${dir} (report.json says why)`;
  // Without a merge base the conflict is uplift's, not the customer's: say how to give one.
  const hint =
    staged.missingBase.length > 0
      ? `Give the vendor files of ${base.version} as the merge base: add --base-tree with a release tree of ${base.version}, which release-tree make writes from a fresh installation of that version (give its folder, then --product ${o.product} --version ${shellWord(base.version)} and --out)${base.unavailable ? ` (${base.unavailable})` : ''}; or settle ${staged.missingBase.join(', ')} in ${o.install} from ${where}, which keep your settings; then run the same apply command again:\nuplift release-tree make --help`
      : `Settle the conflicts in ${o.install} from ${where}, then run the same apply command again.`;
  return new UpliftError(
    'UPLIFT_APPLY_CONFLICT',
    `hop ${hop.from} → ${hop.to}: the customer's changes conflict with the new vendor files in ${staged.conflicts.map((c) => c.path).join(', ')}; nothing was stopped or changed`,
    { hint, unchanged: true },
  );
}

/**
 * Undoes a hop after its stop (idempotent, crash-safe: every decision is taken from what exists
 * on disk): stops whatever runs in the installation, puts the old generation back, keeps the new
 * one as `gen-…-failed`, removes staging, starts the old version if it was running.
 */
export async function rollbackHop(rc: RollbackContext): Promise<RollbackOutcome> {
  const { p, j, hop } = rc;
  const hp = hopPaths(p, j.runId, hop);
  const install = p.install;
  return rollBack(rc, {
    record: { old: hp.old, failed: hp.failed },
    event: 'roll back: stop the new version, put the old one back',
    // Only a switched-in new version is stopped: before the switch the old one is down already.
    stopFirst: async () => (await exists(hp.old)) && (await exists(install)),
    // Post-switch steps ran only in a switched-in new version, which is then still in place.
    postSwitchRan: async (name) =>
      (await exists(hp.old)) &&
      j.records.some((r) => r.hop === hop && r.step === 'migrate' && r.data.postSwitch === name),
    undo: async () => {
      // First, and again after a crash: the record goes only once the data is back on disk.
      restoreLinkedData(hp.stage);
      if (!(await exists(hp.old))) return;
      if (await exists(install)) {
        await rm(hp.failed, { recursive: true, force: true });
        await rename(install, hp.failed);
        crashPoint('rollback:between');
      }
      await rename(hp.old, install);
      fsyncDir(dirname(install));
      fsyncDir(p.dir);
    },
  });
}
