import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shellWord, UpliftError } from '../errors/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { type HistoryEntry, readHistory } from './history.ts';
import { type JournalRecord, readJournal } from './journal.ts';
import { readLock, staleReason, type UpgradeLock } from './lock.ts';
import { statePaths } from './paths.ts';
import { exists } from './tree.ts';

/*
 * What a run left on an installation, read without changing anything: the journal's view of the
 * run, what `uplift resume` would do with it, and `uplift status`. Kept apart from resume.ts and
 * the engine so that `uplift status` loads only the state readers.
 */

export interface RunView {
  runId: string;
  kind: string;
  /** The hop method the run used (`uplift-pack` for journals written before methods existed). */
  method: string;
  from: string;
  to: string;
  wasRunning: boolean;
  startedAt: string;
  /** The profile the run recorded at its start (runs before uplift recorded one have none). */
  profile?: { name: string; dir: string };
  /** The run's hops; `pack` and its `sha256` as the run began with them. */
  hops: { hop: number; from: string; to: string; pack?: string; sha256?: string }[];
  /** What apply recorded to carry the run on without its command line (runs before it have none). */
  recorded?: RecordedRun;
  /** `uplift resume --abort` (or a failure in a resumed run) began taking the run back to `from`. */
  abortBegun: boolean;
  /** The hop the run was in, and the steps it had begun and finished. */
  hop: number;
  begun: Set<string>;
  done: Set<string>;
  last: JournalRecord | undefined;
  ended: JournalRecord | undefined;
  committedHops: number[];
}

/** What apply's `run:begin` record holds for resume to carry the run on (src/apply/engine.ts). */
export interface RecordedRun {
  planHash: string;
  verdict: string;
  steps: PlanStep[];
  stopStep?: PlanStep;
  trust: { keys: string[]; revoked: string[] };
  options: Record<string, unknown>;
}

export function viewOf(records: JournalRecord[]): RunView {
  const begin = records.find((r) => r.step === 'run' && r.state === 'begin');
  const d = (begin?.data ?? {}) as Record<string, unknown>;
  const hop = Math.max(-1, ...records.map((r) => r.hop));
  // A hop resume runs again starts over: the records before its retry mark no longer count.
  const retry = records.findLastIndex((r) => r.hop === hop && r.step === 'resume');
  const mine = records.slice(retry + 1).filter((r) => r.hop === hop);
  return {
    runId: begin?.runId ?? records[0]?.runId ?? '',
    kind: String(d.kind ?? 'apply'),
    method: String(d.method ?? 'uplift-pack'),
    from: String(d.from ?? ''),
    to: String(d.to ?? ''),
    wasRunning: d.wasRunning === true,
    startedAt: begin?.at ?? '',
    ...(d.profile ? { profile: d.profile as { name: string; dir: string } } : {}),
    hops: (d.hops as RunView['hops']) ?? [],
    ...(Array.isArray(d.steps) && d.trust && d.options
      ? {
          recorded: {
            planHash: String(d.planHash ?? ''),
            verdict: String(d.verdict ?? ''),
            steps: d.steps as PlanStep[],
            ...(d.stopStep ? { stopStep: d.stopStep as PlanStep } : {}),
            trust: d.trust as RecordedRun['trust'],
            options: d.options as Record<string, unknown>,
          },
        }
      : {}),
    abortBegun: records.some(
      (r) => r.hop === -1 && r.step === 'rollback' && r.state === 'begin' && r.data.undo === 'run',
    ),
    hop,
    begun: new Set(mine.filter((r) => r.state === 'begin').map((r) => r.step)),
    done: new Set(mine.filter((r) => r.state === 'done').map((r) => r.step)),
    last: records.at(-1),
    ended: records.find((r) => r.step === 'run' && r.state === 'done'),
    committedHops: records
      .filter((r) => r.step === 'commit' && r.state === 'done')
      .map((r) => r.hop),
  };
}

export type ResumeAction =
  | 'none'
  | 'finish-run'
  | 'clean-up-staging'
  | 'roll-back'
  | 'finish-commit'
  | 'finish-rollback';

/** What `uplift resume` would do with this journal. */
export function resumeActionOf(v: RunView): ResumeAction {
  if (v.ended) return 'finish-run';
  if (v.kind === 'rollback') return 'finish-rollback';
  if (v.hop < 0) return 'clean-up-staging';
  if (v.done.has('commit') || v.begun.has('commit'))
    return v.done.has('commit') ? 'finish-run' : 'finish-commit';
  if (v.begun.has('stop')) return 'roll-back';
  return 'clean-up-staging';
}

/** Where resume takes the run after settling its hop (what src/apply/resume.ts decides). */
function resumeThenOf(v: RunView): {
  resumeThen: 'finish' | 'abort' | 'stop';
  resumeTo?: string;
  abortTo?: string;
} {
  if (v.kind === 'rollback') return { resumeThen: 'stop' };
  const action = resumeActionOf(v);
  const settledAt = () => {
    const committed = [...v.committedHops, ...(action === 'finish-commit' ? [v.hop] : [])];
    return committed.length > 0
      ? (v.hops.find((h) => h.hop === Math.max(...committed))?.to ?? v.from)
      : v.from;
  };
  if (action === 'finish-run')
    return {
      resumeThen: 'stop',
      resumeTo: String(v.ended?.data.undid === 'run' ? v.from : settledAt()),
    };
  if (v.abortBegun) return { resumeThen: 'abort', resumeTo: v.from, abortTo: v.from };
  if (v.recorded) return { resumeThen: 'finish', resumeTo: v.to, abortTo: v.from };
  return { resumeThen: 'stop', resumeTo: settledAt(), abortTo: v.from };
}

/** Refuses to start anything while a crashed run waits for `uplift resume`. */
export async function refuseIfIncomplete(install: string): Promise<void> {
  const p = statePaths(install);
  if (await exists(p.journal)) {
    const lock = await readLock(p).catch(() => undefined);
    if (lock && staleReason(lock) === undefined && lock.pid !== process.pid)
      throw new UpliftError(
        'UPLIFT_APPLY_LOCKED',
        `uplift ${lock.command ?? 'apply'} (pid ${lock.pid}) is running on ${install}`,
        {
          hint: 'Wait for it to finish.',
          unchanged: true,
        },
      );
    throw new UpliftError(
      'UPLIFT_APPLY_INCOMPLETE',
      `a run on ${install} did not finish (${p.journal})`,
      {
        hint: `Finish or undo that run first:\nuplift resume --install ${shellWord(install)}`,
        unchanged: true,
        state: `a run did not finish; ${p.journal} records how far it got`,
        next: `uplift resume --install ${shellWord(install)}`,
      },
    );
  }
}

export interface StatusResult {
  install: string;
  state: 'idle' | 'running' | 'interrupted';
  lock?: UpgradeLock & { stale?: string };
  run?: {
    runId: string;
    kind: string;
    from: string;
    to: string;
    hop: number;
    hopTo?: string;
    step?: string;
    stepState?: string;
    at?: string;
    /** How resume settles the hop the run was in. */
    resumeWould: ResumeAction;
    /**
     * Where `uplift resume` then takes the run: on to its target (`finish`), back to its start
     * (`abort`: an abort is under way and is finished whatever is asked), or nowhere further
     * (`stop`: a rollback run, or a run whose journal recorded no plan).
     */
    resumeThen: 'finish' | 'abort' | 'stop';
    /** The version `uplift resume` ends on (apply runs). */
    resumeTo?: string;
    /** The version `uplift resume --abort` ends on (apply runs). */
    abortTo?: string;
  };
  ignoredTail?: string;
  last?: HistoryEntry;
  /** history.jsonl lines that were skipped, each with its line number and what is wrong. */
  warnings: string[];
  /** Kept generations and backups beside the installation. */
  kept: string[];
}

export async function readStatus(install: string): Promise<StatusResult> {
  const p = statePaths(install);
  const lock = await readLock(p).catch(() => undefined);
  const stale = lock ? staleReason(lock) : undefined;
  const read = await readJournal(p);
  const warnings: string[] = [];
  const history = await readHistory(p, (w) => warnings.push(w));
  const kept = (await readdir(p.dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith('gen-'))
    .map((n) => join(p.dir, n));
  const r: StatusResult = {
    install,
    state: 'idle',
    ...(lock ? { lock: { ...lock, ...(stale ? { stale } : {}) } } : {}),
    ...(history.length ? { last: history.at(-1) } : {}),
    kept,
    warnings,
  };
  if (read && read.records.length === 0 && read.ignoredTail) {
    // Only a record torn as it was written (a crash) may stand alone; anything else is not a journal.
    const text = await readFile(p.journal, 'utf8').catch(() => '');
    if (!text.trimStart().startsWith('{'))
      throw new UpliftError(
        'UPLIFT_APPLY_JOURNAL_CORRUPT',
        `${p.journal} is not a journal uplift wrote (${read.ignoredTail}); where a run stands cannot be read`,
        {
          location: { file: p.journal, line: 1 },
          unchanged: true,
          hint: `Check what the installation holds (uplift facts --install ${shellWord(install)}); if no run is under way, move ${p.journal} aside (keep it for the report)`,
        },
      );
    r.ignoredTail = read.ignoredTail;
  }
  if (read && read.records.length > 0) {
    const v = viewOf(read.records);
    r.state = lock && !stale ? 'running' : 'interrupted';
    const last = v.last;
    r.run = {
      runId: v.runId,
      kind: v.kind,
      from: v.from,
      to: v.to,
      hop: v.hop,
      ...(v.hops.find((h) => h.hop === v.hop)?.to
        ? { hopTo: v.hops.find((h) => h.hop === v.hop)?.to }
        : {}),
      ...(last ? { step: last.step, stepState: last.state, at: last.at } : {}),
      resumeWould: resumeActionOf(v),
      ...resumeThenOf(v),
    };
    if (read.ignoredTail) r.ignoredTail = read.ignoredTail;
  }
  return r;
}
