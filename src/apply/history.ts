import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../util/index.ts';
import type { StatePaths } from './paths.ts';

/** One hop of a finished run, as history keeps it. */
export interface HistoryHop {
  hop: number;
  from: string;
  to: string;
  outcome: 'committed' | 'rolled-back' | 'aborted';
  failedStep?: string;
  backup?: string;
  /** The kept old generation (until the next commit or `uplift rollback`). */
  old?: string;
  downtimeSeconds?: number;
  /** Seconds each step of the hop took (what `uplift estimate` learns from; docs/estimates.md). */
  stepSeconds?: Partial<Record<string, number>>;
}

/** One line of history.jsonl: a finished run of apply, or an `uplift rollback`. */
export interface HistoryEntry {
  runId: string;
  kind: 'apply' | 'rollback';
  install: string;
  from: string;
  to: string;
  /** committed: every hop went in; rolled-back: a hop failed and was undone; aborted: stopped before any downtime. */
  outcome: 'committed' | 'rolled-back' | 'aborted';
  startedAt: string;
  endedAt: string;
  hops: HistoryHop[];
  error?: { code: string; message: string };
  /**
   * Set when the run was taken back to the version it started from after hops of it had gone in
   * (a later hop failed, or `uplift resume --abort`): `to` is that version, `hops` every hop of
   * the run that was undone (the committed ones and the one that failed), in order.
   */
  undidRun?: { to: string; hops: { hop: number; from: string; to: string }[] };
  /**
   * For kind rollback: the run and hop it undid; `hops` when it undid several hops of that run at
   * once (`uplift rollback --run`), `hop` then being the first of them.
   */
  undid?: { runId: string; hop: number; hops?: number[] };
  /** True when `uplift resume` ended the run after a crash. */
  resumed?: boolean;
  /** The operator's reason for going ahead with a `not-recommended` plan (`--accept-risk`). */
  acceptedRisk?: { verdict: string; reason: string };
  /** The profile the run used: resume and rollback load it from here, with no flag. */
  profile?: { name: string; dir: string };
  /** What the run left the service as, measured after it: a rollback says whether it runs again. */
  service?: 'running' | 'stopped' | 'down';
  /** For kind rollback: seconds from its stop until the old version passed its readiness probes. */
  downtimeSeconds?: number;
  /**
   * For kind apply: the data-volume facts the run planned with (fact path -> value, those the
   * catalog's durations scale with), so that its step seconds can be scaled to another volume.
   */
  volume?: Record<string, number>;
}

const outcomes: readonly unknown[] = ['committed', 'rolled-back', 'aborted'];

type Check = (v: unknown) => string | undefined;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' ? undefined : 'expected a string');
const oneOf =
  (values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `expected one of ${values.join(', ')}`;
const seconds: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'expected seconds (≥ 0)';
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined ? undefined : check(v);
const numbersBy =
  (check: Check): Check =>
  (v) => {
    if (!isObject(v)) return 'expected an object';
    for (const [k, x] of Object.entries(v)) {
      const why = check(x);
      if (why) return `${k}: ${why}`;
    }
    return undefined;
  };
const fields =
  (shape: Record<string, Check>): Check =>
  (v) => {
    if (!isObject(v)) return 'expected an object';
    for (const [k, check] of Object.entries(shape)) {
      const why = check(v[k]);
      if (why) return `${k}: ${why}`;
    }
    return undefined;
  };
const hop = fields({
  hop: (v) => (Number.isInteger(v) ? undefined : 'expected an integer'),
  from: str,
  to: str,
  outcome: oneOf(outcomes),
  downtimeSeconds: optional(seconds),
  stepSeconds: optional(numbersBy(seconds)),
});

/**
 * What a history line must hold for the commands that read it (history, status, estimate) to use
 * it: the fields every line has, with their types. Other fields pass through unchecked (a line a
 * newer uplift wrote may carry more). Plain checks, not zod: `uplift plan` reads history for its
 * learned estimates and keeps zod off its start-up path (src/architecture.test.ts).
 */
const historyLineProblem = fields({
  runId: (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'expected a run id'),
  kind: oneOf(['apply', 'rollback']),
  install: str,
  from: str,
  to: str,
  outcome: oneOf(outcomes),
  startedAt: str,
  endedAt: str,
  hops: (v) => {
    if (!Array.isArray(v)) return 'expected a list';
    for (const [i, h] of v.entries()) {
      const why = hop(h);
      if (why) return `${i}.${why}`;
    }
    return undefined;
  },
  error: optional(fields({ code: str, message: str })),
  volume: optional(numbersBy((v) => (typeof v === 'number' ? undefined : 'expected a number'))),
  downtimeSeconds: optional(seconds),
});

/**
 * The runs of history.jsonl, oldest first. One rule for every reader (docs/estimates.md): a line
 * that is not JSON, or not a history entry, is skipped, and `warn` is told its line number and
 * what is wrong with it. A torn last line (a crash while appending) is one of these: the run is
 * still in its journal and `uplift resume` appends it again.
 */
export async function readHistory(
  p: StatePaths,
  warn: (message: string) => void = () => {},
): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(p.history, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: HistoryEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const skip = (why: string) =>
      warn(
        `${p.history}:${i + 1}: ${why}; the line is skipped (docs/estimates.md, "history.jsonl")`,
      );
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skip('not JSON (a line torn by a crash, or edited by hand)');
      continue;
    }
    const problem = historyLineProblem(value);
    if (problem !== undefined) {
      skip(`not a history entry (${problem})`);
      continue;
    }
    out.push(value as HistoryEntry);
  }
  return out;
}

/**
 * Ends a run: its history line appended durably (once, even when called again after a crash),
 * then its journal moved to runs/<runId>.journal. Until the rename the journal says "a run is
 * here"; after it, history does.
 */
export async function finishRun(p: StatePaths, entry: HistoryEntry): Promise<void> {
  const seen = (await readHistory(p)).some((h) => h.runId === entry.runId);
  if (!seen) {
    // A torn line left by a crash must not swallow this one: start on a fresh line.
    const size = await stat(p.history).then(
      (s) => s.size,
      () => 0,
    );
    let prefix = '';
    if (size > 0) {
      const text = await readFile(p.history, 'utf8');
      if (!text.endsWith('\n')) prefix = '\n';
    }
    const fh = await open(
      p.history,
      constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
      0o600,
    );
    try {
      await fh.write(`${prefix}${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    fsyncDir(p.dir);
  }
  await mkdir(p.runs, { recursive: true, mode: 0o700 });
  await rename(p.journal, join(p.runs, `${entry.runId}.journal`)).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    },
  );
  fsyncDir(p.dir);
}
