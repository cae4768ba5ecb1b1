import { rm } from 'node:fs/promises';
import { createBackup, verifyBackup } from '../backup/index.ts';
import { shellWord, UpliftError } from '../errors/index.ts';
import type { ReadyResult } from '../lifecycle/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { crashPoint } from '../util/index.ts';
import type { HopStep, Journal } from './journal.ts';
import { migrationDataGlobs } from './migrate.ts';
import { hopPaths, type StatePaths } from './paths.ts';
import type { Services } from './services.ts';
import type { ApplyOptions, HopReport } from './types.ts';

/**
 * The steps every hop method shares (src/apply/methods/): the journaled step frame, backup, stop,
 * start, probe, commit, and the frame of a rollback after the stop. A method composes them with
 * its own steps; docs/apply.md lists each method's.
 */

export interface HopContext {
  o: ApplyOptions;
  p: StatePaths;
  j: Journal;
  hop: number;
  step: PlanStep;
  wasRunning: boolean;
  report: HopReport;
  /** The installation's services, as its profile's lifecycle declares them. */
  svc: Services;
  /** When the stop began (performance.now()): the downtime a client sees starts there. */
  downtimeStart?: number;
  /**
   * The run's last hop under `--leave-stopped`: its commit stops the services whether or not they
   * ran before the run (they were started, probed and smoke-tested first).
   */
  leaveStopped?: boolean;
}

/** Where a hop failed, for the rollback decision. */
export class HopFailure extends Error {
  readonly step: HopStep;
  readonly stopped: boolean;
  readonly error: unknown;
  constructor(step: HopStep, stopped: boolean, error: unknown) {
    super((error as Error).message);
    this.step = step;
    this.stopped = stopped;
    this.error = error;
  }
}

/** Progress lines for people, prefixed with the hop. */
export function hopEvents(ctx: HopContext): (line: string) => void {
  return (s) => ctx.o.onEvent?.(`[${ctx.report.from} → ${ctx.report.to}] ${s}`);
}

/**
 * One journaled step: `begin` (with `data()` for the switch, whose record resume reads), the crash
 * point, the work, its seconds in the report, `done` (with `data()` for the others). A failure
 * becomes a HopFailure that says whether the service had been stopped.
 */
export async function timed<T>(
  ctx: HopContext,
  step: HopStep,
  stopped: boolean,
  data: () => Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const t = performance.now();
  await ctx.j.append(ctx.hop, step, 'begin', step === 'switch' ? data() : {});
  crashPoint(`${step}:begin`);
  let out: T;
  try {
    out = await fn();
  } catch (err) {
    throw new HopFailure(step, stopped, err);
  }
  ctx.report.stepSeconds[step] = Math.round(performance.now() - t) / 1000;
  await ctx.j.append(ctx.hop, step, 'done', step === 'switch' ? {} : data());
  crashPoint(`${step}:done`);
  return out;
}

/**
 * The backup step: backs up each folder to its file and proves every backup restorable (the first
 * is the hop's backup in the report). The installation's own backup is taken with its profile's
 * `paths.generated` left out and its data links (`paths.data`, `paths.databases`) backed up through. On any failure every file of this step is removed and the
 * step fails with UPLIFT_APPLY_BACKUP_FAILED.
 */
export async function backupStep(
  ctx: HopContext,
  backups: { dir: string; out: string }[],
  before: string,
  data: Record<string, unknown>,
): Promise<void> {
  await timed(
    ctx,
    'backup',
    false,
    () => data,
    async () => {
      try {
        for (const b of backups) {
          const own = b.dir === ctx.o.install;
          const paths = ctx.o.profile.manifest.paths;
          await createBackup({
            install: b.dir,
            out: b.out,
            // As `uplift backup` takes it: what is behind a data link is backed up through, so a
            // restore of this backup (by hand, or taking a run back) brings that data back too.
            ...(own
              ? {
                  service: ctx.svc.control(ctx.report.from),
                  productVersion: ctx.report.from,
                  generated: paths?.generated ?? [],
                  data: migrationDataGlobs(paths),
                }
              : {}),
          });
          await verifyBackup(b.out);
        }
      } catch (err) {
        for (const b of backups)
          for (const f of [b.out, `${b.out}.sha256`]) await rm(f, { force: true });
        const e = err as UpliftError;
        throw new UpliftError(
          'UPLIFT_APPLY_BACKUP_FAILED',
          `the backup before ${before} failed: ${e.code ?? ''} ${e.message}`,
          {
            cause: err,
            hint:
              e.hint ??
              'Free space beside the installation, then run the same apply command again.',
            unchanged: true,
          },
        );
      }
      ctx.report.backup = backups[0]?.out;
    },
  );
}

/**
 * The stop step (downtime starts): `around('before-stop')`, the service stopped when any of its
 * processes runs (every pid waited for, never SIGKILL), `around('after-stop')`. Records when the
 * downtime began (`ctx.downtimeStart`), for {@link probeStep} and a rollback's figure.
 */
export async function stopStep(
  ctx: HopContext,
  around?: (phase: 'before-stop' | 'after-stop') => Promise<void>,
): Promise<void> {
  await timed(
    ctx,
    'stop',
    true,
    () => ({ wasRunning: ctx.wasRunning }),
    async () => {
      await around?.('before-stop');
      hopEvents(ctx)('stop the service (downtime starts)');
      ctx.downtimeStart = performance.now();
      if (await ctx.svc.isRunning()) await ctx.svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED' });
      await around?.('after-stop');
    },
  );
}

/** The start step: the profile's services started, then `after` (a pack's after-start hooks). */
export async function startStep(ctx: HopContext, after?: () => Promise<void>): Promise<void> {
  hopEvents(ctx)('start the new version');
  await timed(
    ctx,
    'start',
    true,
    () => ({}),
    async () => {
      await ctx.svc.start({ code: 'UPLIFT_APPLY_START_FAILED', changed: true }, ctx.report.to);
      await after?.();
    },
  );
}

/**
 * The probe step: the profile's readiness probes must pass and keep passing, every service alive,
 * for the stability window (src/lifecycle). The downtime a client sees, from the stop until
 * then, goes into the report.
 */
export async function probeStep(ctx: HopContext): Promise<ReadyResult> {
  hopEvents(ctx)('wait until the new version is ready (readiness probes and stability window)');
  let out: ReadyResult | undefined;
  await timed(
    ctx,
    'probe',
    true,
    () => ({ seconds: out?.seconds, stableSeconds: out?.stableSeconds, probes: out?.probes }),
    async () => {
      out = await ctx.svc.waitUntilReady(ctx.report.to);
    },
  );
  if (ctx.downtimeStart !== undefined)
    ctx.report.downtimeSeconds = Math.round(performance.now() - ctx.downtimeStart) / 1000;
  return out as ReadyResult;
}

/** The smoke step: the profile's smoke tests, which use the product the way a client does. */
export async function smokeStep(ctx: HopContext): Promise<void> {
  hopEvents(ctx)(`smoke test (downtime was ${ctx.report.downtimeSeconds} s)`);
  let checked: string[] = [];
  await timed(
    ctx,
    'smoke',
    true,
    () => ({ checked }),
    async () => {
      checked = (await ctx.svc.smoke(ctx.report.to)).checked;
    },
  );
}

/**
 * The post-switch steps of the profile (a dependency rebuild), after the switch and before the
 * start, each journaled inside the `migrate` step's record. Rollback puts the old generation back,
 * which undoes their changes inside the installation; their `undo` covers the rest.
 */
export async function postSwitchSteps(ctx: HopContext): Promise<string[]> {
  const steps = ctx.svc.profile.manifest.lifecycle?.postSwitch ?? [];
  const ran: string[] = [];
  for (const step of steps) {
    hopEvents(ctx)(`post-switch: ${step.name}`);
    await ctx.j.append(ctx.hop, 'migrate', 'begin', { postSwitch: step.name });
    const r = await ctx.svc.run(step, ctx.report.to);
    if (r.code !== 0)
      throw new UpliftError(
        'UPLIFT_APPLY_POST_SWITCH_FAILED',
        `the post-switch step "${step.name}" exited with ${r.code}: ${r.output.slice(-2000) || '(no output)'}`,
        { hint: "Fix the cause the step's output names; the hop is rolled back." },
      );
    ran.push(step.name);
  }
  return ran;
}

/**
 * The commit step: `finish` (the method's, idempotent: resume runs it again after a crash here),
 * and a service that was not running before the run (or any, on the last hop of a
 * `--leave-stopped` run) stopped again.
 */
export async function commitStep(
  ctx: HopContext,
  data: Record<string, unknown>,
  finish: () => Promise<void>,
): Promise<void> {
  await timed(
    ctx,
    'commit',
    true,
    () => data,
    async () => {
      await finish();
      if (!ctx.wasRunning || ctx.leaveStopped) {
        if (ctx.leaveStopped && ctx.wasRunning)
          hopEvents(ctx)('stop the services again (--leave-stopped)');
        await ctx.svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED', changed: true });
      }
    },
  );
  ctx.report.outcome = 'committed';
}

/** How a method undoes a hop after its stop, inside {@link rollBack}. */
export interface Undo {
  /** The `rollback:begin` record's data. */
  record: Record<string, unknown>;
  /** The progress line for people. */
  event: string;
  /** Whether what runs in the installation is to be stopped first (e.g. only when there is an old generation to go back to). */
  stopFirst: () => Promise<boolean>;
  /** Puts the old version back; crash point `rollback:between` inside. Idempotent. */
  undo: () => Promise<void>;
  /** Whether the post-switch step of this name ran (its undo is then due). */
  postSwitchRan: (name: string) => Promise<boolean>;
}

/** Everything a method's rollback needs: resume calls it with what the journal recorded. */
export interface RollbackContext {
  p: StatePaths;
  j: Journal;
  hop: number;
  /** Whether the service ran before the run: a rollback leaves it as it found it. */
  wasRunning: boolean;
  /** The version the rollback brings back (the hop's `from`). */
  version: string;
  svc: Services;
  onEvent?: (s: string) => void;
}

/** The state a rollback left the service in, measured: what the operator is told. */
export interface RollbackOutcome {
  /** `running`: started again and ready; `stopped`: it was not running before the run either. */
  service: 'running' | 'stopped';
  /** When the old version was ready again (performance.now()), for the downtime. */
  readyAt?: number;
  ready?: ReadyResult;
}

/**
 * The frame of every method's rollback after the stop (idempotent, crash-safe: resume runs it
 * again): journaled `rollback:begin`, what runs stopped (SIGKILL when its stop fails: the new
 * version is being thrown away), the post-switch steps' undo, the method's undo, staging removed,
 * `rollback:done`; then the old version started if it ran before and waited for until its
 * readiness probes pass. When it does not come up, UPLIFT_APPLY_SERVICE_DOWN says the files are
 * back but the service is down.
 */
export async function rollBack(rc: RollbackContext, u: Undo): Promise<RollbackOutcome> {
  const { p, j, hop, svc } = rc;
  await j.append(hop, 'rollback', 'begin', u.record);
  crashPoint('rollback:begin');
  rc.onEvent?.(u.event);
  if ((await u.stopFirst()) && (await svc.isRunning()))
    await svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED', changed: true }).catch(() => svc.kill());
  for (const step of [...(svc.profile.manifest.lifecycle?.postSwitch ?? [])].reverse())
    if (step.undo && (await u.postSwitchRan(step.name))) {
      rc.onEvent?.(`undo post-switch: ${step.name}`);
      const r = await svc.run({ ...step.undo, name: step.name }, rc.version);
      if (r.code !== 0)
        throw new UpliftError(
          'UPLIFT_APPLY_ROLLBACK_FAILED',
          `the undo of the post-switch step "${step.name}" exited with ${r.code}: ${r.output.slice(-1000)}`,
          {
            hint: `Fix the cause, then finish the rollback:\nuplift resume --install ${shellWord(p.install)}`,
            unchanged: false,
            state: `the rollback to ${rc.version} stopped at the undo of "${step.name}": the new version's files are still in place, its service is stopped`,
            next: `uplift resume --install ${shellWord(p.install)}`,
          },
        );
    }
  await u.undo();
  await rm(hopPaths(p, j.runId, hop).stage, { recursive: true, force: true });
  await j.append(hop, 'rollback', 'done', {});
  crashPoint('rollback:done');
  return restoreServiceState(rc);
}

/**
 * Leaves the service as the run found it: started and ready when it ran before, stopped
 * otherwise. Throws UPLIFT_APPLY_SERVICE_DOWN when the old version does not come up.
 */
export async function restoreServiceState(rc: {
  wasRunning: boolean;
  version: string;
  svc: Services;
  onEvent?: (s: string) => void;
}): Promise<RollbackOutcome> {
  const { svc } = rc;
  if (!rc.wasRunning) {
    if (await svc.isRunning()) await svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED', changed: true });
    return { service: 'stopped' };
  }
  try {
    if (!(await svc.isRunning())) {
      rc.onEvent?.(`start ${rc.version} again`);
      await svc.start({ code: 'UPLIFT_APPLY_START_FAILED', changed: true }, rc.version);
    }
    const ready = await svc.waitUntilReady(rc.version);
    return { service: 'running', readyAt: performance.now(), ready };
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_APPLY_SERVICE_DOWN',
      `${rc.version} is back in place in ${svc.install}, but its service is down: ${(err as Error).message}`,
      {
        cause: err,
        hint: `Start it by hand and read its log; the installation's files are those of ${rc.version}.`,
        unchanged: false,
        state: `the files of ${rc.version} are back; its service is down`,
      },
    );
  }
}

/** The pack is not the one the plan names (checksum or target): nothing was changed. */
export function planMismatch(message: string, hint: string): UpliftError {
  return new UpliftError('UPLIFT_APPLY_PLAN_MISMATCH', message, { hint, unchanged: true });
}
