import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEntry, StatePaths } from '../apply/index.ts';
import { fsyncDir } from '../util/index.ts';
import type { LearnedEstimate } from './types.ts';

/** One line of estimates.jsonl: an estimate made before a run, to be compared with it after. */
export interface EstimateRecord {
  /** When it was made (ISO). */
  at: string;
  install: string;
  from: string;
  to: string;
  /** Who made it: `uplift estimate` or `uplift apply` (when no estimate was made since the last run). */
  by: 'estimate' | 'apply';
  estimate: LearnedEstimate;
}

/** An estimate beside the run it was made for. */
export interface AccuracyRow {
  runId: string;
  from: string;
  to: string;
  startedAt: string;
  outcome: HistoryEntry['outcome'];
  basis: LearnedEstimate['basis'];
  downtime: { p50: number; p90: number; actual: number; errorPercent: number; withinP90: boolean };
  total: { p50: number; p90: number; actual: number; errorPercent: number; withinP90: boolean };
}

export function estimatesFile(p: StatePaths): string {
  return join(p.dir, 'estimates.jsonl');
}

/** Appends one estimate durably (a fresh line even after a torn one; src/apply/history.ts does the same). */
export async function recordEstimate(p: StatePaths, r: EstimateRecord): Promise<void> {
  const file = estimatesFile(p);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  const prefix = size > 0 && !(await readFile(file, 'utf8')).endsWith('\n') ? '\n' : '';
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
  try {
    await fh.write(`${prefix}${JSON.stringify(r)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  fsyncDir(p.dir);
}

export async function readEstimates(p: StatePaths): Promise<EstimateRecord[]> {
  let text: string;
  try {
    text = await readFile(estimatesFile(p), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: EstimateRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as EstimateRecord);
    } catch {
      // A torn last line (a crash while appending): that estimate is lost, the run is not.
    }
  }
  return out;
}

/**
 * The estimate that stands for a run: the newest one made for the same versions before it
 * started and after the installation's previous run started (pure).
 */
export function estimateBefore(
  estimates: readonly EstimateRecord[],
  history: readonly HistoryEntry[],
  run: Pick<HistoryEntry, 'from' | 'to' | 'startedAt' | 'runId'>,
): EstimateRecord | undefined {
  const previous = history
    .filter((h) => h.runId !== run.runId && h.startedAt < run.startedAt)
    .map((h) => h.startedAt)
    .sort()
    .at(-1);
  return estimates
    .filter(
      (e) =>
        e.from === run.from &&
        e.estimate.hops.at(-1)?.to === run.to &&
        e.at <= run.startedAt &&
        (previous === undefined || e.at > previous),
    )
    .at(-1);
}

/**
 * Each apply run that went in (committed, or rolled back after its downtime) beside the estimate
 * made for it: the error is (p50 - actual) / actual, in percent; positive = the estimate was long.
 */
export function accuracyOf(
  estimates: readonly EstimateRecord[],
  history: readonly HistoryEntry[],
): AccuracyRow[] {
  const rows: AccuracyRow[] = [];
  for (const run of history) {
    if (run.kind !== 'apply' || run.outcome === 'aborted') continue;
    const e = estimateBefore(estimates, history, {
      ...run,
      to: run.hops.at(-1)?.to ?? run.to,
    });
    if (!e) continue;
    const down = run.hops.reduce((t, h) => t + (h.downtimeSeconds ?? 0), 0);
    const total = (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
    rows.push({
      runId: run.runId,
      from: run.from,
      to: run.hops.at(-1)?.to ?? run.to,
      startedAt: run.startedAt,
      outcome: run.outcome,
      basis: e.estimate.basis,
      downtime: compare(e.estimate.downtime, down),
      total: compare(e.estimate.total, total),
    });
  }
  return rows;
}

function compare(s: { p50: number; p90: number }, actual: number) {
  const a = Math.round(actual * 1000) / 1000;
  return {
    p50: s.p50,
    p90: s.p90,
    actual: a,
    errorPercent: a > 0 ? Math.round(((s.p50 - a) / a) * 1000) / 10 : 0,
    withinP90: a <= s.p90,
  };
}
