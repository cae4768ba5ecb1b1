import { randomBytes } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findRunningProcesses, refuseIfRestoreInterrupted } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import { isBinary } from '../merge/index.ts';
import { type PackManifest, verifyPack } from '../pack/index.ts';
import type { Plan, PlanStep } from '../plan/index.ts';
import type { TrustSet } from '../signing/index.ts';
import { crashPoint, fsyncDir, syncTree } from '../util/index.ts';
import {
  type CarriedEntries,
  type CarryOptions,
  carryChangesSince,
  carryCustomerEntries,
  ownLike,
} from './carry.ts';
import { finishRun, type HistoryEntry, type HistoryHop } from './history.ts';
import {
  backupStep,
  commitStep,
  type HopContext,
  HopFailure,
  hopEvents,
  planMismatch,
  probeStep,
  rollBack,
  startStep,
  stopStep,
  timed,
} from './hop-steps.ts';
import { type HopStep, Journal } from './journal.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { type HopMethodName, hopMethod, type VendorInstallerOptions } from './methods/index.ts';
import { type MigrationReport, runHooks, runMigrations } from './migrate.ts';
import { hopPaths, type StatePaths, statePaths, versionSlug } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { probeService, smokeTest } from './probe.ts';
import { defaultKeepRuns, pruneBackups } from './prune.ts';
import { changedSinceStaging, type StageResult, stageTree } from './stage.ts';
import { exists, hashFile, sha256Of, type VendorManifest } from './tree.ts';

export interface ApplyOptions {
  install: string;
  plan: Plan;
  /** Folder holding the packs the plan names (`--packs`, default the fetch cache). */
  packsDir: string;
  trust: TrustSet;
  product: string;
  platform: string;
  /** The profile's `detection.vendorManifest`, relative to the installation. */
  vendorManifestPath: string;
  /** A release tree (`DIR/tree` + `DIR/manifest.json`) of the installed version: the merge base when apply has none yet. */
  baseTree?: string;
  /** Customer files replaced only by rename, hard-linked into the new generation (default `data/**`). */
  linkGlobs?: readonly string[];
  /** Progress lines for people. */
  onEvent?: (line: string) => void;
  /** How a hop is carried out (the profile's `apply.method`, docs/apply.md); default `uplift-pack`. */
  method?: HopMethodName;
  /** The `vendor-installer` method's settings (the profile's `apply.vendorInstaller`, resolved). */
  vendorInstaller?: VendorInstallerOptions;
  /** Keep the backups of this many runs, this one included (default 3); see src/apply/prune.ts. */
  keepRuns?: number;
}

export interface HopReport {
  hop: number;
  from: string;
  to: string;
  pack: string;
  kind: PackManifest['kind'];
  outcome: HistoryHop['outcome'];
  counts: StageResult['counts'];
  merges: StageResult['merges'];
  migrations: MigrationReport;
  backup?: string;
  old?: string;
  /** Seconds from stop until the probe passed. */
  downtimeSeconds?: number;
  stepSeconds: Partial<Record<HopStep, number>>;
  /** Where the switch's time went (seconds), for the bench and whoever tunes the downtime. */
  switchParts?: Record<string, number>;
}

export interface ApplyResult {
  runId: string;
  install: string;
  from: string;
  to: string;
  outcome: 'committed';
  hops: HopReport[];
  recoveredLock?: { reason: string; pid?: number };
  /** Backups removed after the commit (src/apply/prune.ts): this run's middle hops, older runs. */
  prunedBackups: string[];
  seconds: number;
}

export const defaultLinkGlobs = ['data/**'] as const;

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function manualStepError(s: PlanStep, done: number): UpliftError {
  const detail = s.manual?.detail ? `: ${s.manual.detail}` : '';
  return new UpliftError(
    'UPLIFT_APPLY_MANUAL_STEP',
    `step ${s.index} is not a pack uplift can apply: ${s.title}${detail}${done > 0 ? ` (${done} hop${done === 1 ? '' : 's'} before it went in)` : ''}`,
    {
      hint: s.packProblem
        ? `${s.packProblem}. Do the step by hand, then plan and apply again.`
        : 'Do this step by hand (uplift plan lists how), then run uplift apply again.',
      unchanged: done === 0,
    },
  );
}

/** Refuses an installation on another filesystem than its parent (the switch renames across them). */
export async function checkSameFilesystem(install: string): Promise<void> {
  const [a, b] = await Promise.all([stat(install), stat(dirname(install))]);
  if (a.dev !== b.dev)
    throw new UpliftError(
      'UPLIFT_APPLY_CROSS_DEVICE',
      `${install} is a mount point: apply prepares the new version beside it and switches by rename, which cannot cross filesystems`,
      {
        hint: `Install the product in a directory inside the mount (e.g. ${install}/product), so its parent is on the same filesystem.`,
        unchanged: true,
      },
    );
}

export async function readVendorManifest(install: string, rel: string): Promise<VendorManifest> {
  const file = join(install, rel);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as VendorManifest;
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_APPLY_STAGE_FAILED',
      `cannot read the vendor manifest ${file}: ${(err as Error).message}`,
      {
        hint: 'The installation must keep the manifest of its vendor files (the profile names it); reinstall or restore it.',
        location: { file },
        unchanged: true,
      },
    );
  }
}

/** The pristine vendor tree of `version`: apply's own copy, else the release tree given as `--base-tree`. */
async function pristineFor(
  p: StatePaths,
  version: string,
  baseTree?: string,
): Promise<string | undefined> {
  const own = join(p.vendor, versionSlug(version), 'tree');
  if (await exists(own)) return own;
  if (!baseTree) return undefined;
  const m = JSON.parse(await readFile(join(baseTree, 'manifest.json'), 'utf8')) as VendorManifest;
  if (m.version !== version)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--base-tree ${baseTree} is the release tree of ${m.version}, but the installation is ${version}`,
      {
        hint: `Give the release tree of ${version}.`,
        unchanged: true,
      },
    );
  return join(baseTree, 'tree');
}

function wrapStageError(err: unknown, where: string): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'EFBIG')
    return new UpliftError('UPLIFT_APPLY_NO_SPACE', `${where}: ${e.message}`, {
      cause: err,
      hint: 'Free space beside the installation (the new version is prepared there), then run uplift apply again.',
      unchanged: true,
    });
  return new UpliftError('UPLIFT_APPLY_STAGE_FAILED', `${where}: ${e.message}`, {
    cause: err,
    hint: 'Fix the cause, then run uplift apply again; the installation was not changed.',
    unchanged: true,
  });
}

/**
 * Runs the plan's hops on the installation, each through verify, stage, backup, stop, switch,
 * migrate, start, probe, smoke and commit, journaled so that a crash at any point leaves a run
 * `uplift resume` finishes or undoes. A failure before the stop changes nothing; after it, the
 * hop is rolled back at once and the old version started again (UPLIFT_APPLY_ROLLED_BACK).
 */
export async function runApply(o: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const p = statePaths(o.install);
  await refuseIfRestoreInterrupted(o.install);
  await checkSameFilesystem(o.install);
  const { hops, stop } = packHops(o.plan);
  if (hops.length === 0 && stop) throw manualStepError(stop, 0);
  const packFiles = hops.map((s) => resolvePack(o.packsDir, s));
  for (const f of packFiles) if (!(await exists(f))) throw packMissing(f, o.packsDir);

  const runId = newRunId();
  const acquired = await acquireLock(p, 'apply', runId);
  let j: Journal;
  try {
    if (await exists(p.journal))
      throw new UpliftError(
        'UPLIFT_APPLY_INCOMPLETE',
        `an earlier run on ${o.install} did not finish (${p.journal})`,
        {
          hint: `Run \`uplift resume --install ${o.install}\` first; it finishes or undoes that run.`,
          unchanged: true,
        },
      );
    await mkdir(p.backups, { recursive: true, mode: 0o700 });
    j = await Journal.create(p, runId);
  } catch (err) {
    await releaseLock(p);
    throw err;
  }
  const wasRunning = (await findRunningProcesses(o.install)).length > 0;
  const startedAt = new Date().toISOString();
  await j.append(-1, 'run', 'begin', {
    kind: 'apply',
    install: o.install,
    from: o.plan.from,
    to: o.plan.to,
    planHash: o.plan.hash,
    product: o.product,
    method: o.method ?? 'uplift-pack',
    ...(o.vendorInstaller ? { installerDir: o.vendorInstaller.installerDir } : {}),
    wasRunning,
    hops: hops.map((s, i) => ({ hop: i, from: s.from, to: s.to, pack: packFiles[i] })),
    pid: process.pid,
  });
  if (acquired.recovered)
    await j.append(-1, 'lock', 'done', {
      recovered: acquired.recovered.reason,
      stalePid: acquired.recovered.lock?.pid ?? null,
      keptAs: acquired.recovered.keptAs,
    });
  crashPoint('run:begin');
  const reports: HopReport[] = [];
  const entry = (outcome: HistoryEntry['outcome'], error?: unknown): HistoryEntry => ({
    runId,
    kind: 'apply',
    install: o.install,
    from: o.plan.from,
    to: reports.filter((r) => r.outcome === 'committed').at(-1)?.to ?? o.plan.from,
    outcome,
    startedAt,
    endedAt: new Date().toISOString(),
    hops: reports.map((r) => ({
      hop: r.hop,
      from: r.from,
      to: r.to,
      outcome: r.outcome,
      ...(r.backup ? { backup: r.backup } : {}),
      ...(r.old ? { old: r.old } : {}),
      ...(r.downtimeSeconds !== undefined ? { downtimeSeconds: r.downtimeSeconds } : {}),
    })),
    ...(error
      ? {
          error: {
            code: (error as UpliftError).code ?? 'ERROR',
            message: (error as Error).message,
          },
        }
      : {}),
  });
  for (let i = 0; i < hops.length; i++) {
    const step = hops[i] as PlanStep;
    const report: HopReport = {
      hop: i,
      from: step.from as string,
      to: step.to as string,
      pack: packFiles[i] as string,
      kind: 'full',
      outcome: 'aborted',
      counts: { added: 0, replaced: 0, deleted: 0, kept: 0, merged: 0 },
      merges: [],
      migrations: { database: [], config: [], hooks: [] },
      stepSeconds: {},
    };
    reports.push(report);
    try {
      await hopMethod(o.method).run({ o, p, j, hop: i, step, wasRunning, report });
    } catch (err) {
      if (!(err instanceof HopFailure)) throw err;
      const hp = hopPaths(p, runId, i);
      if (!err.stopped) {
        await rm(hp.stage, { recursive: true, force: true });
        await j.append(i, err.step, 'failed', { error: describe(err.error) });
        await j.append(-1, 'run', 'done', { outcome: 'aborted', failedStep: err.step });
        await finishRun(p, entry('aborted', err.error));
        await releaseLock(p);
        throw err.error;
      }
      await j.append(i, err.step, 'failed', { error: describe(err.error) });
      try {
        await hopMethod(o.method).rollback(p, j, i, wasRunning, o.onEvent);
      } catch (rbErr) {
        throw new UpliftError(
          'UPLIFT_APPLY_ROLLBACK_FAILED',
          `step ${err.step} of the hop to ${step.to} failed (${(err.error as Error).message}), and the automatic rollback failed too: ${(rbErr as Error).message}`,
          {
            cause: rbErr,
            hint: `Fix the cause, then run \`uplift resume --install ${o.install}\`; it finishes the rollback.`,
          },
        );
      }
      report.outcome = 'rolled-back';
      await j.append(-1, 'run', 'done', { outcome: 'rolled-back', failedStep: err.step });
      await finishRun(p, {
        ...entry('rolled-back', err.error),
        hops: entry('rolled-back').hops.map((h) =>
          h.hop === i ? { ...h, failedStep: err.step } : h,
        ),
      });
      await releaseLock(p);
      const cause = err.error as UpliftError;
      throw new UpliftError(
        'UPLIFT_APPLY_ROLLED_BACK',
        `step ${err.step} of the hop ${step.from} → ${step.to} failed, and the hop was rolled back: ${step.from} runs again. ${cause.code ?? ''} ${cause.message}`.replace(
          / {2}/g,
          ' ',
        ),
        { cause: err.error, hint: cause.hint ?? 'Fix the cause, then run uplift apply again.' },
      );
    }
  }
  await j.append(-1, 'run', 'done', { outcome: 'committed' });
  crashPoint('run:done');
  await finishRun(p, entry('committed'));
  const prunedBackups = await pruneBackups(p, runId, hops.length, o.keepRuns ?? defaultKeepRuns);
  await releaseLock(p);
  if (stop) throw manualStepError(stop, hops.length);
  return {
    runId,
    install: o.install,
    from: o.plan.from,
    to: hops.at(-1)?.to ?? o.plan.from,
    outcome: 'committed',
    hops: reports,
    ...(acquired.recovered
      ? {
          recoveredLock: {
            reason: acquired.recovered.reason,
            ...(acquired.recovered.lock ? { pid: acquired.recovered.lock.pid } : {}),
          },
        }
      : {}),
    prunedBackups,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

function describe(err: unknown): { code: string; message: string } {
  return { code: (err as UpliftError).code ?? 'ERROR', message: (err as Error).message };
}

function packMissing(file: string, dir: string): UpliftError {
  return new UpliftError(
    'UPLIFT_APPLY_PACK_NOT_FOUND',
    `the pack ${basename(file)} is not in ${dir}`,
    {
      hint: `Fetch it first (uplift fetch --plan PLAN.json), or pass --packs DIR where it is.`,
      location: { file },
      unchanged: true,
    },
  );
}

/** What the carry of customer entries leaves out: every vendor path of the old and the new version. */
function carryOptions(o: ApplyOptions, tree: string, staged: StageResult): CarryOptions {
  const vendorPaths = new Set<string>(staged.inputs.map((i) => i.path));
  for (const f of staged.newVendor.files) vendorPaths.add(f.path);
  return {
    install: o.install,
    tree,
    vendorPaths,
    vendorManifestPath: o.vendorManifestPath,
    linkGlobs: o.linkGlobs ?? defaultLinkGlobs,
  };
}

export async function runHop(ctx: HopContext): Promise<void> {
  const { o, p, j, hop, report } = ctx;
  const hp = hopPaths(p, j.runId, hop);
  const ev = hopEvents(ctx);
  let verified: { manifest: PackManifest; sha256: string; keyid: string } | undefined;
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
      const r = await verifyPack(report.pack, {
        trust: o.trust,
        install: { product: o.product, version: report.from, platform: o.platform },
        stageInto: hp.pack,
      });
      const want = ctx.step.pack?.sha256;
      const hint = 'Fetch the pack the plan names again.';
      if (want && want !== r.sha256)
        throw planMismatch(`${report.pack} has SHA-256 ${r.sha256}, the plan names ${want}`, hint);
      if (r.manifest.to !== report.to)
        throw planMismatch(
          `${report.pack} upgrades to ${r.manifest.to}, the plan's hop to ${report.to}`,
          hint,
        );
      verified = { manifest: r.manifest, sha256: r.sha256, keyid: r.keyid };
      report.kind = r.manifest.kind;
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
        const oldVendor = await readVendorManifest(o.install, o.vendorManifestPath);
        const pristine = await pristineFor(p, oldVendor.version, o.baseTree);
        staged = await stageTree({
          install: o.install,
          packDir: hp.pack,
          tree: hp.tree,
          manifest,
          vendorManifestPath: o.vendorManifestPath,
          oldVendor,
          ...(pristine ? { pristine } : {}),
        });
        report.counts = staged.counts;
        report.merges = staged.merges;
        if (staged.conflicts.length > 0) throw await conflictError(p, j.runId, o.install, staged);
        await keepPristine(hp.tree, join(hp.stage, 'vendor'), staged, hp.pack, pristine);
        await ownLike(
          hp.tree,
          staged.newVendor.files.map((f) => f.path),
          o.install,
        );
        carry = carryOptions(o, hp.tree, staged);
        carried = await carryCustomerEntries(carry);
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
  const downtimeStart = await stopStep(ctx, hooks);

  ev('switch to the new version');
  await timed(
    ctx,
    'switch',
    true,
    () => ({ old: hp.old, tree: hp.tree }),
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
            hint: 'Do not edit the installation while apply runs; run uplift apply again (it merges the new edits).',
          },
        );
      // Carries (and fsyncs) only what changed since staging carried the customer entries.
      carryChangesSince(carry as CarryOptions, carried as CarriedEntries);
      part('carry');
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
      await runMigrations(o.install, hp.old, hp.pack, manifest, report.migrations);
      await hooks('before-start');
    },
  );

  await startStep(ctx, () => hooks('after-start'));
  const { url } = await probeStep(ctx, downtimeStart, async () => ({
    url: (await probeService(o.install, o.product, report.to)).url,
  }));
  ev(`smoke test (downtime was ${report.downtimeSeconds} s)`);
  await timed(
    ctx,
    'smoke',
    true,
    () => ({}),
    async () => {
      await smokeTest(o.install, o.product, url);
    },
  );

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
  await rm(hp.stage, { recursive: true, force: true });
  const keep = new Set([versionSlug(from), versionSlug(to)]);
  for (const name of await readdir(p.vendor).catch(() => [] as string[]))
    if (!keep.has(name)) await rm(join(p.vendor, name), { recursive: true, force: true });
  const mine = basename(hp.old);
  for (const name of await readdir(p.dir))
    if (
      (name.startsWith('gen-') && name !== mine) ||
      (name.startsWith('stage-') && !name.startsWith(`stage-${runId}-`))
    )
      await rm(join(p.dir, name), { recursive: true, force: true });
  fsyncDir(p.dir);
}

/** Text files up to this size are kept as copies in the pristine tree; the rest are hard links. */
const pristineCopyMaxBytes = 8 << 20;

/**
 * Keeps the new version's vendor files as they ship: the base of the next upgrade's merges.
 * Text files (what a later upgrade merges) are copied, so an in-place edit of the installed file
 * (`>>`, `sed -i` keeps the inode too) cannot change the merge base. Binary and large files, which
 * are never merged, are hard-linked to the staged file to save the space and time.
 */
async function keepPristine(
  tree: string,
  out: string,
  staged: StageResult,
  packDir: string,
  pristineOld?: string,
): Promise<void> {
  await mkdir(join(out, 'tree'), { recursive: true, mode: 0o700 });
  for (const f of staged.newVendor.files) {
    const dest = join(out, 'tree', f.path);
    await mkdir(dirname(dest), { recursive: true });
    const src = join(tree, f.path);
    const st = await lstat(src).catch(() => undefined);
    if (st?.isFile() && st.size === f.size) {
      if (f.size <= pristineCopyMaxBytes) {
        const bytes = await readFile(src);
        if (sha256Of(bytes) === f.sha256) {
          if (isBinary(bytes)) await link(src, dest);
          else await writeFile(dest, bytes, { mode: 0o600 });
          continue;
        }
      } else if ((await hashFile(src)) === f.sha256) {
        await link(src, dest);
        continue;
      }
    }
    // A merged file: the vendor's bytes are in the pack (changed in this version) or in the
    // previous pristine tree (unchanged since).
    for (const dir of [packDir, pristineOld]) {
      if (!dir) continue;
      const from = join(dir, f.path);
      if ((await exists(from)) && (await hashFile(from)) === f.sha256) {
        await writeFile(dest, await readFile(from));
        break;
      }
    }
  }
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(staged.newVendor)}\n`);
}

async function conflictError(
  p: StatePaths,
  runId: string,
  install: string,
  staged: StageResult,
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
  return new UpliftError(
    'UPLIFT_APPLY_CONFLICT',
    `the customer's changes conflict with the new vendor files in ${staged.conflicts.map((c) => c.path).join(', ')}; nothing was stopped or changed`,
    {
      hint: `Read ${join(dir, 'report.json')} and the proposed files beside it, settle the conflicts in ${install}, then run uplift apply again.`,
      unchanged: true,
    },
  );
}

/**
 * Undoes a hop after its stop (idempotent, crash-safe: every decision is taken from what exists
 * on disk): stops whatever runs in the installation, puts the old generation back, keeps the new
 * one as `gen-…-failed`, removes staging, starts the old version if it was running.
 */
export async function rollbackHop(
  p: StatePaths,
  j: Journal,
  hop: number,
  wasRunning: boolean,
  onEvent?: (s: string) => void,
): Promise<void> {
  const hp = hopPaths(p, j.runId, hop);
  const install = p.install;
  await rollBack(p, j, hop, wasRunning, onEvent, {
    record: { old: hp.old, failed: hp.failed },
    event: 'roll back: stop the new version, put the old one back',
    // Only a switched-in new version is stopped: before the switch the old one is down already.
    stopFirst: async () => (await exists(hp.old)) && (await exists(install)),
    undo: async () => {
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

export { acquireLock, releaseLock };
