import { rm } from 'node:fs/promises';
import {
  createBackup,
  findRunningProcesses,
  startService,
  stopService,
  verifyBackup,
} from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { crashPoint } from '../util/index.ts';
import type { ApplyOptions, HopReport } from './engine.ts';
import type { HopStep, Journal } from './journal.ts';
import { hopPaths, type StatePaths } from './paths.ts';

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
 * is the hop's backup in the report). On any failure every file of this step is removed and the
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
          await createBackup({ install: b.dir, out: b.out });
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
            hint: e.hint ?? 'Free space beside the installation, then run uplift apply again.',
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
 * processes runs (every pid waited for, never SIGKILL), `around('after-stop')`. Returns when the
 * downtime began, for {@link probeStep}.
 */
export async function stopStep(
  ctx: HopContext,
  around?: (phase: 'before-stop' | 'after-stop') => Promise<void>,
): Promise<number> {
  const install = ctx.o.install;
  await timed(
    ctx,
    'stop',
    true,
    () => ({ wasRunning: ctx.wasRunning }),
    async () => {
      await around?.('before-stop');
      hopEvents(ctx)('stop the service (downtime starts)');
      if ((await findRunningProcesses(install)).length > 0)
        await stopService(install, { code: 'UPLIFT_APPLY_STOP_FAILED' });
      await around?.('after-stop');
    },
  );
  return performance.now();
}

/** The start step: the installation's start script, then `after` (a pack's after-start hooks). */
export async function startStep(ctx: HopContext, after?: () => Promise<void>): Promise<void> {
  hopEvents(ctx)('start the new version');
  await timed(
    ctx,
    'start',
    true,
    () => ({}),
    async () => {
      await startService(ctx.o.install, { code: 'UPLIFT_APPLY_START_FAILED', changed: true });
      await after?.();
    },
  );
}

/**
 * The probe step: `probe` must pass (its result is journaled); the downtime, from `downtimeStart`
 * (what {@link stopStep} returned) until now, goes into the report.
 */
export async function probeStep<T extends Record<string, unknown>>(
  ctx: HopContext,
  downtimeStart: number,
  probe: () => Promise<T>,
): Promise<T> {
  hopEvents(ctx)('probe');
  let out: T | undefined;
  await timed(
    ctx,
    'probe',
    true,
    () => ({ ...out }),
    async () => {
      out = await probe();
    },
  );
  ctx.report.downtimeSeconds = Math.round(performance.now() - downtimeStart) / 1000;
  return out as T;
}

/**
 * The commit step: `finish` (the method's, idempotent: resume runs it again after a crash here),
 * and a service that was not running before the run stopped again.
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
      if (!ctx.wasRunning)
        await stopService(ctx.o.install, { code: 'UPLIFT_APPLY_STOP_FAILED', changed: true });
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
}

/**
 * The frame of every method's rollback after the stop (idempotent, crash-safe: resume runs it
 * again): journaled `rollback:begin`, what runs stopped (SIGKILL when its stop script fails: the
 * new version is being thrown away), the method's undo, staging removed, the old version started
 * if it ran before, `rollback:done`.
 */
export async function rollBack(
  p: StatePaths,
  j: Journal,
  hop: number,
  wasRunning: boolean,
  onEvent: ((s: string) => void) | undefined,
  u: Undo,
): Promise<void> {
  const install = p.install;
  await j.append(hop, 'rollback', 'begin', u.record);
  crashPoint('rollback:begin');
  onEvent?.(u.event);
  if ((await u.stopFirst()) && (await findRunningProcesses(install)).length > 0)
    await stopService(install, { code: 'UPLIFT_APPLY_STOP_FAILED', changed: true }).catch(
      async () => {
        for (const r of await findRunningProcesses(install)) process.kill(r.pid, 'SIGKILL');
      },
    );
  await u.undo();
  await rm(hopPaths(p, j.runId, hop).stage, { recursive: true, force: true });
  if (wasRunning && (await findRunningProcesses(install)).length === 0) {
    onEvent?.('start the old version again');
    await startService(install, { code: 'UPLIFT_APPLY_START_FAILED', changed: true });
  }
  await j.append(hop, 'rollback', 'done', {});
  crashPoint('rollback:done');
}

/** The pack is not the one the plan names (checksum or target): nothing was changed. */
export function planMismatch(message: string, hint: string): UpliftError {
  return new UpliftError('UPLIFT_APPLY_PLAN_MISMATCH', message, { hint, unchanged: true });
}
