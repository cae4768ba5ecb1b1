import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpliftError } from '../errors/index.ts';
import { findServiceProcesses } from './processes.ts';
import { checkName, runCheck } from './run-check.ts';
import type { Check, Service } from './schema.ts';
import { tail } from './text.ts';
import type { LifecycleTarget, ReadyResult } from './types.ts';
import { expandVars, findUnknownVars, KNOWN_VARS, withCachedFacts } from './vars.ts';

/** One request of a probe may take this long at most, so one hanging answer cannot eat the wait. */
const PROBE_TIMEOUT_MS = 5_000;
/**
 * And at least this long, even when the wait has less left: a round cut to a few milliseconds
 * would replace the reason a probe really failed by "no answer within 3 ms".
 */
const PROBE_MIN_TIMEOUT_MS = 1_000;

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The end of a `run` service's log, for the message that it crashed. */
async function logTail(s: Service, t: LifecycleTarget): Promise<string> {
  if (!s.run?.log) return '';
  try {
    const text = await readFile(resolve(t.install, await expandVars(s.run.log, t)), 'utf8');
    return `; the end of ${s.run.log}:\n${tail(text, 1500) || '(nothing)'}`;
  } catch {
    return '';
  }
}

/** Every string of a check that may hold variables. */
function checkStrings(c: Check): string[] {
  const cmd = c.command;
  return [
    ...(c.http
      ? [
          c.http.url,
          c.http.body ?? '',
          c.http.bodyMatch ?? '',
          c.http.ca ?? '',
          ...Object.values(c.http.headers ?? {}),
        ]
      : []),
    ...(c.tcp ? [c.tcp.host, String(c.tcp.port)] : []),
    ...(cmd ? [...cmd.argv, cmd.cwd ?? '', ...Object.values(cmd.env ?? {})] : []),
  ];
}

/** A typo in a variable fails at once, not after the whole wait as a probe that never passes. */
export function assertKnownVars(checks: readonly Check[]): void {
  for (const c of checks)
    for (const s of checkStrings(c)) {
      const unknown = findUnknownVars(s);
      if (unknown.length > 0)
        throw new UpliftError(
          'UPLIFT_LIFECYCLE_VAR',
          `check "${checkName(c)}": "${s}" uses the unknown variable \${${unknown[0]}}`,
          {
            hint: `Write one of ${KNOWN_VARS} in the profile's lifecycle section.`,
            unchanged: false,
          },
        );
    }
}

/**
 * Waits until the started version is ready: in rounds every intervalMs, every service has a live
 * process and every probe passes, and keeps doing so for stableSeconds in a row (a failed round
 * starts the window again). It runs after a start that saw every service's process, so a service
 * with no live process has crashed: that fails at once. Gives up after readiness.timeoutSeconds with UPLIFT_APPLY_PROBE_FAILED naming the
 * last failing probe and what it got.
 */
export async function waitUntilReady(
  target: LifecycleTarget,
  o: { signal?: AbortSignal } = {},
): Promise<ReadyResult> {
  const t = withCachedFacts(target);
  const r = t.lifecycle.readiness;
  assertKnownVars(r.probes);
  const started = Date.now();
  const deadline = started + r.timeoutSeconds * 1000;
  const seen = new Map<string, { pid: number; at: number }>();
  let stableSince: number | undefined;
  let lastFailure: { name: string; detail: string } | undefined;
  let lastEvent = '';
  const notReady = () =>
    new UpliftError(
      'UPLIFT_APPLY_PROBE_FAILED',
      `${t.install} was not ready after ${r.timeoutSeconds} s: ${
        lastFailure
          ? `${lastFailure.name}: ${lastFailure.detail}`
          : `every probe passed, but not for ${r.stableSeconds} s in a row`
      }`,
      {
        hint: "Read the service's log; if it only needs longer to start, raise lifecycle.readiness.timeoutSeconds in the profile.",
        unchanged: false,
      },
    );
  const event = (line: string) => {
    if (line !== lastEvent) t.onEvent?.(line);
    lastEvent = line;
  };
  for (;;) {
    o.signal?.throwIfAborted();
    let failure: { name: string; detail: string } | undefined;
    const pids: number[] = [];
    for (const s of t.lifecycle.services) {
      const procs = await findServiceProcesses(s, t);
      const before = seen.get(s.name);
      if (procs.length > 0) {
        if (!before) seen.set(s.name, { pid: (procs[0] as { pid: number }).pid, at: Date.now() });
        pids.push(...procs.map((p) => p.pid));
      } else {
        // The wait follows a start that saw every service's process: one that is gone now has
        // crashed, whether this wait saw it or not, and no probe can make it ready again.
        const when = before
          ? `${seconds(Date.now() - before.at)} s after it was seen running (pid ${before.pid})`
          : 'after it was started';
        throw new UpliftError(
          'UPLIFT_APPLY_PROBE_FAILED',
          `service ${s.name} of ${t.install} exited ${when}${await logTail(s, t)}`,
          {
            hint: "Read the service's log to see why it stopped, fix the cause, then run the command again.",
            unchanged: false,
          },
        );
      }
    }
    const probes: { name: string; detail: string }[] = [];
    if (!failure)
      for (const p of r.probes) {
        const timeoutMs = Math.min(
          Math.max(deadline - Date.now(), PROBE_MIN_TIMEOUT_MS),
          PROBE_TIMEOUT_MS,
        );
        const res = await runCheck(p, t, timeoutMs);
        probes.push({ name: checkName(p), detail: res.detail });
        if (!res.ok) {
          failure = { name: checkName(p), detail: res.detail };
          break;
        }
      }
    const now = Date.now();
    if (failure) {
      if (stableSince !== undefined)
        event(
          `${failure.name} failed after passing ${seconds(now - stableSince)} s: ${failure.detail}`,
        );
      else event(`waiting: ${failure.name}: ${failure.detail}`);
      stableSince = undefined;
      lastFailure = failure;
    } else {
      stableSince ??= now;
      if (now - stableSince >= r.stableSeconds * 1000)
        return {
          seconds: seconds(now - started),
          stableSeconds: seconds(now - stableSince),
          pids,
          probes,
        };
      event(`every probe passes; watching for ${r.stableSeconds} s`);
    }
    if (now >= deadline) throw notReady();
    await sleep(Math.min(r.intervalMs, Math.max(0, deadline - Date.now())), undefined, {
      signal: o.signal,
    });
    if (Date.now() >= deadline) throw notReady();
  }
}

/** A single round of the readiness check, as a client would see the installation now. */
export interface ProbeRound {
  /** Every service has a live process and every probe passed in this round. */
  ready: boolean;
  /** The services with no live process (their probes are then not run: nothing serves). */
  notRunning: string[];
  /** Each probe run, in order, until the first that failed. */
  probes: { name: string; ok: boolean; detail: string }[];
}

/**
 * One round of the readiness probes, each with a short timeout (default 5 s, as one request of {@link waitUntilReady}), and no stability
 * window: what a client gets now. Unlike {@link waitUntilReady} it never throws for a service that
 * does not run (a stopped installation is simply not ready).
 */
export async function probeOnce(
  target: LifecycleTarget,
  o: { timeoutMs?: number } = {},
): Promise<ProbeRound> {
  const t = withCachedFacts(target);
  const r = t.lifecycle.readiness;
  assertKnownVars(r.probes);
  const notRunning: string[] = [];
  for (const s of t.lifecycle.services)
    if ((await findServiceProcesses(s, t)).length === 0) notRunning.push(s.name);
  if (notRunning.length > 0) return { ready: false, notRunning, probes: [] };
  const probes: ProbeRound['probes'] = [];
  for (const p of r.probes) {
    const res = await runCheck(p, t, o.timeoutMs ?? PROBE_TIMEOUT_MS);
    probes.push({ name: checkName(p), ok: res.ok, detail: res.detail });
    if (!res.ok) break;
  }
  return { ready: probes.every((p) => p.ok), notRunning, probes };
}
