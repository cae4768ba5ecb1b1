import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
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

const Outcome = z.enum(['committed', 'rolled-back', 'aborted']);
const Seconds = z.number().finite().nonnegative();

/**
 * What a history line must hold for the commands that read it (history, status, estimate) to use
 * it: the fields every line has, with their types. Other fields pass through unchecked (a line a
 * newer uplift wrote may carry more).
 */
const HistoryLine = z.looseObject({
  runId: z.string().min(1),
  kind: z.enum(['apply', 'rollback']),
  install: z.string(),
  from: z.string(),
  to: z.string(),
  outcome: Outcome,
  startedAt: z.string(),
  endedAt: z.string(),
  hops: z.array(
    z.looseObject({
      hop: z.number().int(),
      from: z.string(),
      to: z.string(),
      outcome: Outcome,
      downtimeSeconds: Seconds.optional(),
      stepSeconds: z.record(z.string(), Seconds).optional(),
    }),
  ),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
  volume: z.record(z.string(), z.number()).optional(),
  downtimeSeconds: Seconds.optional(),
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
    const parsed = HistoryLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      skip(`not a history entry (${at}${issue?.message ?? 'invalid'})`);
      continue;
    }
    out.push(parsed.data as HistoryEntry);
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
