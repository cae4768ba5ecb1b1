import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { shellWord, UpliftError } from '../errors/index.ts';
import { fsyncDir } from '../util/index.ts';
import type { StatePaths } from './paths.ts';

/**
 * The steps of one hop, in order; each is journaled `begin` before it starts and `done` after it
 * finished. The downtime window is `stop` … `probe`.
 */
export const hopSteps = [
  'verify',
  'stage',
  'backup',
  'stop',
  'switch',
  'migrate',
  'start',
  'probe',
  'smoke',
  'commit',
] as const;
/** The vendor-installer method's two update steps (docs/apply.md), between `stop` and `start` in its hops. */
export const vendorInstallerSteps = ['installer-update', 'product-update'] as const;
export type HopStep = (typeof hopSteps)[number] | (typeof vendorInstallerSteps)[number];

/** Record kinds besides the hop steps: the run's start and end, a rollback, a recovered lock. */
export type JournalStep = HopStep | 'run' | 'rollback' | 'lock' | 'resume';
export type JournalState = 'begin' | 'done' | 'failed';

export interface JournalRecord {
  seq: number;
  runId: string;
  /** 0-based index of the hop in the run; -1 for run-level records. */
  hop: number;
  step: JournalStep;
  state: JournalState;
  at: string;
  data: Record<string, unknown>;
  /** SHA-256 of the record's JSON without `sum`. */
  sum: string;
}

function body(r: Omit<JournalRecord, 'sum'>): string {
  return JSON.stringify({
    seq: r.seq,
    runId: r.runId,
    hop: r.hop,
    step: r.step,
    state: r.state,
    at: r.at,
    data: r.data,
  });
}

function sumOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface ReadJournal {
  records: JournalRecord[];
  /** A torn or damaged last record that was ignored (the step it announced did not happen). */
  ignoredTail?: string;
}

/**
 * Reads a journal. A torn or bad LAST record is ignored: it was being written when the process
 * died, so what it announced never started. A bad record before the last is corruption: refused.
 */
export function parseJournal(
  text: string,
  p: Pick<StatePaths, 'install' | 'journal' | 'lock'>,
): ReadJournal {
  const file = p.journal;
  const lines = text.split('\n');
  const complete = lines.slice(0, -1);
  const tail = lines[lines.length - 1] ?? '';
  const records: JournalRecord[] = [];
  let ignoredTail: string | undefined = tail === '' ? undefined : 'an unterminated last record';
  for (let i = 0; i < complete.length; i++) {
    const line = complete[i] as string;
    const problem = checkLine(line, records.length);
    if (problem === undefined) {
      records.push(JSON.parse(line) as JournalRecord);
      continue;
    }
    if (i === complete.length - 1 && tail === '') {
      ignoredTail = `a damaged last record (${problem})`;
      break;
    }
    throw new UpliftError(
      'UPLIFT_APPLY_JOURNAL_CORRUPT',
      `${file}: record ${i + 1} is damaged (${problem}) and records follow it`,
      {
        location: { file, line: i + 1 },
        unchanged: true,
        state: `the journal of an interrupted run is damaged at record ${i + 1}; where the run stands is unknown`,
        hint: `The journal cannot say where the run stands. Check what the installation holds (the command below); if it is whole, restore the run's backup or move ${file} aside (keep it for the report) and remove the lock ${p.lock}:\nuplift facts --install ${shellWord(p.install)}`,
      },
    );
  }
  return { records, ...(ignoredTail ? { ignoredTail } : {}) };
}

function checkLine(line: string, expectedSeq: number): string | undefined {
  let r: JournalRecord;
  try {
    r = JSON.parse(line) as JournalRecord;
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null || typeof r.sum !== 'string') return 'no checksum';
  if (sumOf(body(r)) !== r.sum) return 'checksum mismatch';
  if (r.seq !== expectedSeq) return `sequence ${r.seq} where ${expectedSeq} was expected`;
  return undefined;
}

export async function readJournal(p: StatePaths): Promise<ReadJournal | undefined> {
  let text: string;
  try {
    text = await readFile(p.journal, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseJournal(text, p);
}

/**
 * An open journal: every append is one `write` of one line followed by fsync, so after a crash
 * the file holds every record whose append returned, plus at most one torn line.
 */
export class Journal {
  readonly file: string;
  readonly runId: string;
  private seq: number;
  readonly records: JournalRecord[];

  private constructor(file: string, runId: string, records: JournalRecord[]) {
    this.file = file;
    this.runId = runId;
    this.records = records;
    this.seq = records.length;
  }

  /** Starts the journal of a new run (the file must not exist). */
  static async create(p: StatePaths, runId: string): Promise<Journal> {
    const fh = await open(
      p.journal,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND,
      0o600,
    );
    await fh.sync();
    await fh.close();
    fsyncDir(p.dir);
    return new Journal(p.journal, runId, []);
  }

  /**
   * Continues an existing journal. A torn tail is cut off first (truncate to the last good
   * record), so appends after it stay readable.
   */
  static async reopen(p: StatePaths, read: ReadJournal): Promise<Journal> {
    const first = read.records[0];
    if (!first) throw new Error('reopen needs at least one record');
    if (read.ignoredTail) {
      const text = await readFile(p.journal, 'utf8');
      let keep = 0;
      for (let i = 0; i < read.records.length; i++) keep = text.indexOf('\n', keep) + 1;
      const fh = await open(p.journal, 'r+');
      try {
        await fh.truncate(keep);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    return new Journal(p.journal, first.runId, [...read.records]);
  }

  async append(
    hop: number,
    step: JournalStep,
    state: JournalState,
    data: Record<string, unknown> = {},
  ): Promise<JournalRecord> {
    const r = {
      seq: this.seq,
      runId: this.runId,
      hop,
      step,
      state,
      at: new Date().toISOString(),
      data,
    };
    const text = body(r);
    const record: JournalRecord = { ...r, sum: sumOf(text) };
    const line = `${text.slice(0, -1)},"sum":"${record.sum}"}\n`;
    const fh = await open(this.file, constants.O_WRONLY | constants.O_APPEND);
    try {
      await fh.write(line);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.seq++;
    this.records.push(record);
    return record;
  }
}
