import { mkdir, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { crashPoint } from '../util/index.ts';
import { finishRun, type HistoryEntry } from './history.ts';
import { type HopContext, HopFailure, type RollbackOutcome } from './hop-steps.ts';
import { Journal } from './journal.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { hopMethod } from './methods/index.ts';
import { hopPaths, statePaths } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { checkSameFilesystem, manualStepError, newRunId } from './preflight.ts';
import { defaultKeepRuns, pruneBackups } from './prune.ts';
import { servicesOf } from './services.ts';
import { exists } from './tree.ts';
import type { ApplyOptions, ApplyResult, HopReport } from './types.ts';

export type { ApplyOptions, ApplyResult, HopReport } from './types.ts';

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

  const svc = servicesOf(o.profile, o.install, o.onEvent);

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
          state: `a run did not finish; ${p.journal} records how far it got`,
          next: `uplift resume --install ${o.install}`,
        },
      );
    await mkdir(p.backups, { recursive: true, mode: 0o700 });
    j = await Journal.create(p, runId);
  } catch (err) {
    await releaseLock(p);
    throw err;
  }
  const wasRunning = await svc.isRunning();
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
    profile: { name: o.profile.manifest.name, dir: o.profile.dir },
    ...(o.acceptRisk !== undefined
      ? { acceptedRisk: { verdict: o.plan.verdict, reason: o.acceptRisk } }
      : {}),
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
    profile: { name: o.profile.manifest.name, dir: o.profile.dir },
    ...(o.acceptRisk !== undefined
      ? { acceptedRisk: { verdict: o.plan.verdict, reason: o.acceptRisk } }
      : {}),
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
    const ctx: HopContext = { o, p, j, hop: i, step, wasRunning, report, svc };
    try {
      await hopMethod(o.method).run(ctx);
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
      const cause = err.error as UpliftError;
      const failed = `step ${err.step} of the hop ${step.from} → ${step.to} failed (${cause.code ?? 'ERROR'}: ${cause.message})`;
      let down: UpliftError | undefined;
      let outcome: RollbackOutcome | undefined;
      try {
        outcome = await hopMethod(o.method).rollback({
          p,
          j,
          hop: i,
          wasRunning,
          version: step.from as string,
          svc,
          onEvent: o.onEvent,
        });
      } catch (rbErr) {
        if ((rbErr as UpliftError).code !== 'UPLIFT_APPLY_SERVICE_DOWN')
          throw new UpliftError(
            'UPLIFT_APPLY_ROLLBACK_FAILED',
            `${failed}, and the automatic rollback failed too: ${(rbErr as Error).message}`,
            {
              cause: rbErr,
              hint: `Fix the cause, then run \`uplift resume --install ${o.install}\`; it finishes the rollback.`,
              unchanged: false,
              state: `the hop ${step.from} → ${step.to} failed at ${err.step} and its rollback stopped part-way: the files may be of either version, and the service is stopped`,
              next: `uplift resume --install ${o.install}`,
            },
          );
        down = rbErr as UpliftError;
      }
      if (ctx.downtimeStart !== undefined && outcome?.readyAt !== undefined)
        report.downtimeSeconds = Math.round(outcome.readyAt - ctx.downtimeStart) / 1000;
      else if (down || outcome?.service === 'stopped') report.downtimeSeconds = undefined;
      report.outcome = 'rolled-back';
      await j.append(-1, 'run', 'done', {
        outcome: 'rolled-back',
        failedStep: err.step,
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
      if (down)
        throw new UpliftError(
          'UPLIFT_APPLY_SERVICE_DOWN',
          `${failed}; the hop was rolled back and the files of ${step.from} are back, but the service is down: ${down.message.replace(/^.*?service is down: /, '')}`,
          {
            cause: err.error,
            hint: down.hint,
            unchanged: false,
            state: `the files of ${step.from} are back; its service is down`,
          },
        );
      const state =
        outcome?.service === 'running'
          ? `${step.from} runs again and passed its readiness probes; clients saw ${report.downtimeSeconds} s of downtime`
          : `${step.from} is back in place, stopped as it was before the run`;
      throw new UpliftError(
        'UPLIFT_APPLY_ROLLED_BACK',
        `${failed}, and the hop was rolled back: ${state}.`,
        {
          cause: err.error,
          hint: cause.hint ?? 'Fix the cause, then run uplift apply again.',
          unchanged: false,
        },
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
