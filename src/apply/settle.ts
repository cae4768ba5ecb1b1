import { setTimeout as sleep } from 'node:timers/promises';
import { detectFacts } from '../detect/index.ts';
import { shellWord, UpliftError } from '../errors/index.ts';
import { type LifecycleTarget, runCheck } from '../lifecycle/index.ts';
import type { Plan, PlanStep } from '../plan/index.ts';
import type { Profile } from '../profile/index.ts';
import { runMark } from './services.ts';

/** What the wait at a stop found: on the report of the hop that reached the stop. */
export interface SettleReport {
  check: string;
  outcome: 'settled' | 'timed-out';
  attempts: number;
  seconds: number;
  /** What the last attempt saw. */
  detail: string;
}

/**
 * Refuses, before anything changes, a plan whose settle checks the profile does not declare:
 * finding out at the stop would leave the run short of its target for a typo.
 */
export function checkSettlesDeclared(plan: Plan, profile: Profile): void {
  const declared = profile.manifest.lifecycle?.settleChecks ?? {};
  for (const s of plan.steps) {
    if (!s.settle || Object.hasOwn(declared, s.settle.check)) continue;
    throw new UpliftError(
      'UPLIFT_APPLY_SETTLE_UNDECLARED',
      `the catalog has apply wait at ${s.to} until the settle check "${s.settle.check}" passes, but the profile ${profile.manifest.name} declares no such check`,
      {
        hint: `Add lifecycle.settleChecks.${s.settle.check} (an http, tcp or command check) to ${profile.dir}/profile.yaml; docs/profiles.md shows how.`,
        location: {
          file: `${profile.dir}/profile.yaml`,
          path: `lifecycle.settleChecks.${s.settle.check}`,
        },
        unchanged: true,
      },
    );
  }
}

/**
 * Runs the settle check of the stop `step` reached until it passes or its time is up. The
 * installation is committed at the stop meanwhile: a crash here leaves a run resume carries on
 * from the next hop, waiting again first. Failure is a value (the caller ends the run there).
 */
export async function awaitSettle(
  profile: Profile,
  install: string,
  step: PlanStep,
  runId: string,
  target: string,
  onEvent?: (line: string) => void,
): Promise<{ report: SettleReport; error?: UpliftError }> {
  const settle = step.settle as NonNullable<PlanStep['settle']>;
  const lifecycle = profile.manifest.lifecycle;
  const check = lifecycle?.settleChecks[settle.check];
  const stop = step.to as string;
  const started = performance.now();
  const report: SettleReport = {
    check: settle.check,
    outcome: 'timed-out',
    attempts: 0,
    seconds: 0,
    detail: '',
  };
  if (!lifecycle || !check) {
    report.detail = 'the profile declares no such settle check';
    return { report, error: settleError(report, stop, install, target, settle.timeoutSeconds) };
  }
  const lt: LifecycleTarget = {
    install,
    profileDir: profile.dir,
    lifecycle,
    version: stop,
    facts: async () => (await detectFacts(profile, install)) as unknown as Record<string, unknown>,
    ...(onEvent ? { onEvent } : {}),
    env: { [runMark]: runId },
  };
  const deadline = started + settle.timeoutSeconds * 1000;
  onEvent?.(
    `waiting at ${stop} until the settle check ${settle.check} passes (up to ${settle.timeoutSeconds} s)`,
  );
  for (;;) {
    report.attempts++;
    const r = await runCheck(check, lt, Math.max(1, deadline - performance.now()));
    report.detail = r.detail;
    report.seconds = Math.round(performance.now() - started) / 1000;
    if (r.ok) {
      report.outcome = 'settled';
      onEvent?.(`${stop} settled after ${report.seconds} s (${report.attempts} attempts)`);
      return { report };
    }
    const left = deadline - performance.now();
    if (left <= 0)
      return { report, error: settleError(report, stop, install, target, settle.timeoutSeconds) };
    await sleep(Math.min(left, settle.intervalSeconds * 1000));
  }
}

function settleError(
  report: SettleReport,
  stop: string,
  install: string,
  target: string,
  timeoutSeconds: number,
): UpliftError {
  // The same command in the hint (on a line of its own) and in `next`, each word quoted for a shell.
  const again = `uplift apply --install ${shellWord(install)} --to ${shellWord(target)}`;
  return new UpliftError(
    'UPLIFT_APPLY_SETTLE_TIMEOUT',
    `the settle check ${report.check} did not pass at ${stop} within ${timeoutSeconds} s (${report.attempts} attempts; last: ${report.detail || 'no attempt'}); the run stopped there: ${stop} is committed and is a supported version, running as the plan's stop`,
    {
      hint: `Find out why ${report.check} does not pass (a background migration still running or failed), then carry on from ${stop}:\n${again}`,
      unchanged: false,
      state: `${stop}, committed; the later hops were not started`,
      next: again,
    },
  );
}
