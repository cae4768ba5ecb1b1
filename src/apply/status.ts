import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
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
  hops: { hop: number; from: string; to: string }[];
  /** The hop the run was in, and the steps it had begun and finished. */
  hop: number;
  begun: Set<string>;
  done: Set<string>;
  last: JournalRecord | undefined;
  ended: JournalRecord | undefined;
  committedHops: number[];
}

export function viewOf(records: JournalRecord[]): RunView {
  const begin = records.find((r) => r.step === 'run' && r.state === 'begin');
  const d = (begin?.data ?? {}) as Record<string, unknown>;
  const hop = Math.max(-1, ...records.map((r) => r.hop));
  const mine = records.filter((r) => r.hop === hop);
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
        hint: `Run \`uplift resume --install ${install}\` first.`,
        unchanged: true,
        state: `a run did not finish; ${p.journal} records how far it got`,
        next: `uplift resume --install ${install}`,
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
    resumeWould: ResumeAction;
  };
  ignoredTail?: string;
  last?: HistoryEntry;
  /** Kept generations and backups beside the installation. */
  kept: string[];
}

export async function readStatus(install: string): Promise<StatusResult> {
  const p = statePaths(install);
  const lock = await readLock(p).catch(() => undefined);
  const stale = lock ? staleReason(lock) : undefined;
  const read = await readJournal(p);
  const history = await readHistory(p);
  const kept = (await readdir(p.dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith('gen-'))
    .map((n) => join(p.dir, n));
  const r: StatusResult = {
    install,
    state: 'idle',
    ...(lock ? { lock: { ...lock, ...(stale ? { stale } : {}) } } : {}),
    ...(history.length ? { last: history.at(-1) } : {}),
    kept,
  };
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
    };
    if (read.ignoredTail) r.ignoredTail = read.ignoredTail;
  }
  return r;
}
