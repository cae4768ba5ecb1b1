import { mkdir, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import { shellWord, UpliftError, withResult } from '../errors/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { crashPoint } from '../util/index.ts';
import { finishRun, type HistoryEntry } from './history.ts';
import { type HopContext, HopFailure, type RollbackOutcome } from './hop-steps.ts';
import { Journal } from './journal.ts';
import { type Acquired, acquireLock, releaseLock } from './lock.ts';
import { hopMethod } from './methods/index.ts';
import { hopPaths, type StatePaths, statePaths } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { checkSameFilesystem, manualStepError, newRunId } from './preflight.ts';
import { defaultKeepRuns, pruneBackups } from './prune.ts';
import { type Services, servicesOf } from './services.ts';
import { awaitSettle, checkSettlesDeclared } from './settle.ts';
import { exists, hashFile } from './tree.ts';
import type { ApplyOptions, ApplyResult, HopReport } from './types.ts';
import { stateAfterFailedUndo, undoRun } from './undo-run.ts';

export type { ApplyOptions, ApplyResult, HopReport } from './types.ts';

/**
 * Runs the plan's hops on the installation, each through verify, stage, backup, stop, switch,
 * migrate, start, probe, smoke and commit, journaled so that a crash at any point leaves a run
 * `uplift resume` finishes or undoes. A run ends on the version it started from or on its target:
 * a first hop failing before its stop changes nothing; after it, the hop is rolled back at once;
 * a later hop failing takes the whole run back to its start (its committed hops undone); the old
 * version is started again if it ran (UPLIFT_APPLY_ROLLED_BACK).
 */
export async function runApply(o: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const p = statePaths(o.install);
  await refuseIfRestoreInterrupted(o.install);
  await checkSameFilesystem(o.install);
  const { hops, stop } = packHops(o.plan);
  if (hops.length === 0 && stop) throw manualStepError(stop, 0);
  checkSettlesDeclared(o.plan, o.profile);
  const packFiles = hops.map((s) => resolvePack(o.packsDir, s));
  for (const f of packFiles) if (!(await exists(f))) throw packMissing(f, o.packsDir);

  const runId = newRunId();
  const svc = servicesOf(o.profile, o.install, o.onEvent, runId);
  const acquired = await acquireLock(p, 'apply', runId);
  let j: Journal;
  try {
    if (await exists(p.journal))
      throw new UpliftError(
        'UPLIFT_APPLY_INCOMPLETE',
        `an earlier run on ${o.install} did not finish (${p.journal})`,
        {
          hint: `Finish that run first (with --abort, resume takes it back to where it started):\nuplift resume --install ${shellWord(o.install)}`,
          unchanged: true,
          state: `a run did not finish; ${p.journal} records how far it got`,
          next: `uplift resume --install ${shellWord(o.install)}`,
        },
      );
    // A later hop's conflict stops the run here, before its first hop goes in.
    await hopMethod(o.method).precheck?.(o, p, runId, hops);
    await mkdir(p.backups, { recursive: true, mode: 0o700 });
    j = await Journal.create(p, runId);
  } catch (err) {
    await releaseLock(p);
    throw err;
  }
  const wasRunning = await svc.isRunning();
  const startedAt = new Date().toISOString();
  // The packs' hashes now: resume carries on only with exactly these files.
  const packHashes: string[] = [];
  for (const f of packFiles) packHashes.push(await hashFile(f));
  const { plan: _plan, profile: _profile, trust, onEvent: _onEvent, ...options } = o;
  await j.append(-1, 'run', 'begin', {
    kind: 'apply',
    install: o.install,
    from: o.plan.from,
    to: o.plan.to,
    planHash: o.plan.hash,
    verdict: o.plan.verdict,
    product: o.product,
    method: o.method ?? 'uplift-pack',
    ...(o.vendorInstaller ? { installerDir: o.vendorInstaller.installerDir } : {}),
    wasRunning,
    profile: { name: o.profile.manifest.name, dir: o.profile.dir },
    ...(o.acceptRisk !== undefined
      ? { acceptedRisk: { verdict: o.plan.verdict, reason: o.acceptRisk } }
      : {}),
    hops: hops.map((s, i) => ({
      hop: i,
      from: s.from,
      to: s.to,
      pack: packFiles[i],
      sha256: packHashes[i],
    })),
    // What resume needs to carry the run on to its target without the command line
    // (src/apply/resume.ts): the plan's steps, the trust, the options.
    steps: hops,
    ...(stop ? { stopStep: stop } : {}),
    trust: { keys: [...trust.keys.values()].map((k) => k.public), revoked: [...trust.revoked] },
    options,
    pid: process.pid,
  });
  if (acquired.recovered)
    await j.append(-1, 'lock', 'done', {
      recovered: acquired.recovered.reason,
      stalePid: acquired.recovered.lock?.pid ?? null,
      staleLock: acquired.recovered.lock ?? null,
    });
  if (acquired.swept.length > 0) await j.append(-1, 'lock', 'done', { swept: acquired.swept });
  crashPoint('run:begin');
  return runHops(
    {
      o,
      p,
      j,
      runId,
      wasRunning,
      svc,
      hops,
      packFiles,
      ...(stop ? { stop } : {}),
      startedAt,
      reports: [],
      started,
      ...(acquired.recovered ? { recovered: acquired.recovered } : {}),
    },
    0,
  );
}

/**
 * A run on its way: what apply began it with (for resume: what the journal recorded) and the
 * reports of the hops run so far. {@link runHops} carries it on.
 */
export interface RunState {
  o: ApplyOptions;
  p: StatePaths;
  j: Journal;
  runId: string;
  wasRunning: boolean;
  svc: Services;
  hops: PlanStep[];
  packFiles: string[];
  /** The plan's first step apply cannot run (manual): the run stops there, committed. */
  stop?: PlanStep;
  startedAt: string;
  /** One per hop begun so far, in order (resume passes the committed ones). */
  reports: HopReport[];
  /** performance.now() when the command began. */
  started: number;
  recovered?: Acquired['recovered'];
  /** Set by resume: the history line says so. */
  resumed?: boolean;
}

/**
 * Runs the run's hops from `first` on, each through its method's steps, then commits the run
 * (history, backups pruned, lock released). A hop that fails after its stop is rolled back at
 * once; when hops of the run committed before it (in this process or before a crash), the whole
 * run is then taken back to its start ({@link undoRun}), so a run never ends in between. The
 * error says what the installation and the service were left as.
 */
export async function runHops(rs: RunState, first: number): Promise<ApplyResult> {
  const { o, p, j, runId, wasRunning, svc, hops, packFiles, reports } = rs;
  let undone = false;
  const entry = (outcome: HistoryEntry['outcome'], error?: unknown): HistoryEntry => ({
    runId,
    kind: 'apply',
    install: o.install,
    from: o.plan.from,
    to: undone
      ? o.plan.from
      : (reports.filter((r) => r.outcome === 'committed').at(-1)?.to ?? o.plan.from),
    outcome,
    startedAt: rs.startedAt,
    endedAt: new Date().toISOString(),
    profile: { name: o.profile.manifest.name, dir: o.profile.dir },
    ...(o.acceptRisk !== undefined
      ? { acceptedRisk: { verdict: o.plan.verdict, reason: o.acceptRisk } }
      : {}),
    ...(rs.resumed ? { resumed: true } : {}),
    hops: reports.map((r) => ({
      hop: r.hop,
      from: r.from,
      to: r.to,
      outcome: undone && r.outcome === 'committed' ? 'rolled-back' : r.outcome,
      ...(r.backup ? { backup: r.backup } : {}),
      ...(r.old && !undone ? { old: r.old } : {}),
      ...(r.downtimeSeconds !== undefined ? { downtimeSeconds: r.downtimeSeconds } : {}),
      ...(Object.keys(r.stepSeconds).length > 0 ? { stepSeconds: r.stepSeconds } : {}),
    })),
    ...(o.volume ? { volume: o.volume } : {}),
    ...(undone
      ? {
          undidRun: {
            to: o.plan.from,
            hops: reports.map(({ hop, from, to }) => ({ hop, from, to })),
          },
        }
      : {}),
    ...(error
      ? {
          error: {
            code: (error as UpliftError).code ?? 'ERROR',
            message: (error as Error).message,
          },
        }
      : {}),
  });
  // What a failed run ended as, printed beside the error under --json (src/errors/uplift-error.ts).
  const ended = (outcome: string, version?: string, service?: string) => ({
    outcome,
    runId,
    from: o.plan.from,
    to: o.plan.to,
    ...(version !== undefined ? { version } : {}),
    ...(service !== undefined ? { service } : {}),
  });
  let settleFailed: UpliftError | undefined;
  for (let i = first; i < hops.length; i++) {
    const step = hops[i] as PlanStep;
    // The stop before this hop may need time to settle; if it does not, the run ends committed
    // there (a supported version) instead of going on or back.
    const before = hops[i - 1];
    if (before?.settle) {
      const waited = await awaitSettle(o.profile, o.install, before, runId, o.plan.to, o.onEvent);
      const reached = reports[i - 1];
      if (reached) reached.settle = waited.report;
      if (waited.error) {
        settleFailed = waited.error;
        break;
      }
    }
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
    const ctx: HopContext = {
      o,
      p,
      j,
      hop: i,
      step,
      wasRunning,
      report,
      svc,
      ...(o.leaveStopped && i === hops.length - 1 ? { leaveStopped: true } : {}),
    };
    try {
      await hopMethod(o.method).run(ctx);
    } catch (err) {
      if (!(err instanceof HopFailure)) throw err;
      const hp = hopPaths(p, runId, i);
      // A run ends on its start or its target (docs/apply.md, "Rollback"): once a hop of it went
      // in, a failing hop takes the whole run back, whatever step it failed at.
      const undoWhole = reports.some((r) => r.outcome === 'committed');
      if (!err.stopped && !undoWhole) {
        await rm(hp.stage, { recursive: true, force: true });
        await j.append(i, err.step, 'failed', { error: describe(err.error) });
        await j.append(-1, 'run', 'done', { outcome: 'aborted', failedStep: err.step });
        await finishRun(p, entry('aborted', err.error));
        await releaseLock(p);
        throw withResult(
          err.error,
          ended('aborted', step.from as string, wasRunning ? 'running' : 'stopped'),
        );
      }
      await j.append(i, err.step, 'failed', { error: describe(err.error) });
      const cause = err.error as UpliftError;
      const failed = `step ${err.step} of the hop ${step.from} → ${step.to} failed (${cause.code ?? 'ERROR'}: ${cause.message})`;
      let down: UpliftError | undefined;
      let outcome: RollbackOutcome | undefined;
      let undoing = false;
      try {
        if (err.stopped)
          outcome = await hopMethod(o.method).rollback({
            p,
            j,
            hop: i,
            // Taking the whole run back follows: the hop's `from` is not started in between.
            wasRunning: wasRunning && !undoWhole,
            version: step.from as string,
            svc,
            onEvent: o.onEvent,
          });
        else await rm(hp.stage, { recursive: true, force: true });
        if (undoWhole) {
          undoing = true;
          const run = { runId, from: o.plan.from, wasRunning, current: step.from as string };
          outcome = await undoRun(p, j, run, svc, o.onEvent);
          undone = true;
        }
      } catch (rbErr) {
        if ((rbErr as UpliftError).code !== 'UPLIFT_APPLY_SERVICE_DOWN') {
          const service = (await svc.isRunning().catch(() => false)) ? 'running' : 'stopped';
          const state = undoing
            ? `the hop ${step.from} → ${step.to} failed at ${err.step} and was rolled back, but taking the run back to ${o.plan.from} stopped part-way: ${await stateAfterFailedUndo(p, j, step.from as string, o.plan.from)}; the service is ${service}`
            : `the hop ${step.from} → ${step.to} failed at ${err.step} and its rollback stopped part-way: the files may be of either version${undoWhole ? ` (the run's hops before it, from ${o.plan.from}, are still in)` : ''}; the service is ${service}`;
          throw new UpliftError(
            'UPLIFT_APPLY_ROLLBACK_FAILED',
            `${failed}, and the automatic rollback failed too: ${(rbErr as Error).message}`,
            {
              cause: rbErr,
              hint: `Fix the cause, then finish taking the run back to ${o.plan.from}:\nuplift resume --install ${shellWord(o.install)} --abort`,
              unchanged: false,
              state,
              next: `uplift resume --install ${shellWord(o.install)} --abort`,
              result: ended('incomplete'),
            },
          );
        }
        down = rbErr as UpliftError;
        undone ||= undoing;
      }
      const back = undone ? o.plan.from : (step.from as string);
      if (ctx.downtimeStart !== undefined && outcome?.readyAt !== undefined)
        report.downtimeSeconds = Math.round(outcome.readyAt - ctx.downtimeStart) / 1000;
      else if (down || outcome?.service === 'stopped') report.downtimeSeconds = undefined;
      report.outcome = 'rolled-back';
      await j.append(-1, 'run', 'done', {
        outcome: 'rolled-back',
        failedStep: err.step,
        ...(undone ? { undid: 'run' } : {}),
        service: down ? 'down' : outcome?.service,
        ...(report.downtimeSeconds !== undefined
          ? { downtimeSeconds: report.downtimeSeconds }
          : {}),
      });
      await finishRun(p, {
        ...entry('rolled-back', err.error),
        service: down ? 'down' : (outcome?.service ?? 'stopped'),
        hops: entry('rolled-back').hops.map((h) =>
          h.hop === i ? { ...h, failedStep: err.step } : h,
        ),
      });
      await releaseLock(p);
      const what = undone
        ? `the run was taken back to ${back} (undone: ${reports.map((r) => `${r.from} → ${r.to}`).join(', ')})`
        : 'the hop was rolled back';
      if (down)
        throw new UpliftError(
          'UPLIFT_APPLY_SERVICE_DOWN',
          `${failed}; ${what} and the files of ${back} are back, but the service is down: ${down.message.replace(/^.*?service is down: /, '')}`,
          {
            cause: err.error,
            hint: down.hint,
            unchanged: false,
            state: `the run was taken back to ${back}: its files are back; its service is down`,
            result: ended('rolled-back', back, 'down'),
          },
        );
      const state =
        outcome?.service === 'running'
          ? `${back} runs again and passed its readiness probes${report.downtimeSeconds !== undefined ? `; clients saw ${report.downtimeSeconds} s of downtime` : ''}`
          : `${back} is back in place, stopped as it was before the run`;
      throw new UpliftError('UPLIFT_APPLY_ROLLED_BACK', `${failed}, and ${what}: ${state}.`, {
        cause: err.error,
        hint: cause.hint ?? 'Fix the cause, then run the same apply command again.',
        unchanged: false,
        state: `the run was taken back to ${back}; service ${outcome?.service === 'running' ? 'running' : 'stopped'} as before`,
        result: ended('rolled-back', back, outcome?.service === 'running' ? 'running' : 'stopped'),
      });
    }
  }
  // A run that stopped short at a settle timeout committed an earlier hop, whose commit did not
  // stop the services: --leave-stopped still leaves them stopped.
  if (settleFailed && o.leaveStopped && (await svc.isRunning()))
    await svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED', changed: true });
  const service = wasRunning && !o.leaveStopped ? 'running' : 'stopped';
  await j.append(-1, 'run', 'done', {
    outcome: 'committed',
    service,
    ...(o.leaveStopped ? { leftStopped: true } : {}),
    ...(rs.resumed ? { resumed: true } : {}),
    ...(settleFailed ? { settleTimedOut: reports.at(-1)?.to } : {}),
  });
  crashPoint('run:done');
  await finishRun(p, { ...entry('committed', settleFailed), service });
  const prunedBackups = await pruneBackups(p, runId, reports.length, o.keepRuns ?? defaultKeepRuns);
  await releaseLock(p);
  const reached = reports.at(-1)?.to ?? o.plan.from;
  if (settleFailed) throw withResult(settleFailed, ended('committed', reached, service));
  if (rs.stop)
    throw withResult(manualStepError(rs.stop, hops.length), ended('committed', reached, service));
  return {
    runId,
    install: o.install,
    from: o.plan.from,
    to: hops.at(-1)?.to ?? o.plan.from,
    outcome: 'committed',
    version: hops.at(-1)?.to ?? o.plan.from,
    wasRunning,
    service,
    ...(o.leaveStopped ? { leftStopped: true } : {}),
    hops: reports,
    ...(rs.recovered
      ? {
          recoveredLock: {
            reason: rs.recovered.reason,
            ...(rs.recovered.lock ? { pid: rs.recovered.lock.pid } : {}),
          },
        }
      : {}),
    prunedBackups,
    seconds: Math.round(performance.now() - rs.started) / 1000,
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
      hint: `Fetch the plan's packs into ${dir} (give fetch this installation as --install, your repository's URL or folder as --repo, and ${dir} as --out), or give --packs the folder that holds them:\nuplift fetch --help`,
      location: { file },
      unchanged: true,
    },
  );
}
