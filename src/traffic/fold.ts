import type { Skipped } from './scan.ts';
import { SLOT_MINUTES, SLOTS_PER_WEEK, type TrafficProfile, type TransferRecord } from './types.ts';
import type { RecordSink } from './xferlog.ts';

const SLOT_MS = SLOT_MINUTES * 60_000;
const WEEK_MS = 7 * 86_400_000;
/** 1970-01-01 was a Thursday: the first Monday 00:00 UTC is 4 days later. */
const MONDAY_EPOCH = 4 * 86_400_000;
/** Slots (absolute, since the epoch) of the last this-many are kept as sets; older ones packed. */
const OPEN_SLOTS = 8;

/** The slot of the week (0 = Monday 00:00-00:15 UTC) an instant falls in. */
export function slotOf(at: number): number {
  const inWeek = (((at - MONDAY_EPOCH) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  return Math.floor(inWeek / SLOT_MS);
}

/** Monday 00:00 UTC of the week an instant falls in, epoch ms. */
export function weekStartOf(at: number): number {
  return at - ((((at - MONDAY_EPOCH) % WEEK_MS) + WEEK_MS) % WEEK_MS);
}

/**
 * Folds records into the 672 slots of the week. Distinct accounts are counted per slot per week
 * (per absolute 15-minute slot): the slots of the last two hours of the log keep a Set of account
 * numbers; older ones are packed into sorted Uint32Arrays (4 bytes per account and slot), so a
 * log of any length costs memory only for the account-slot pairs it holds, and a line written
 * late (out of order) still finds the accounts already counted in its slot.
 */
export class TrafficFold implements RecordSink {
  private readonly transfers = new Float64Array(SLOTS_PER_WEEK);
  private readonly bytes = new Float64Array(SLOTS_PER_WEEK);
  private readonly accountIds = new Map<string, number>();
  private readonly open = new Map<number, Set<number>>();
  private readonly packed = new Map<number, Uint32Array>();
  private currentSlot = Number.NaN;
  private current: Set<number> = new Set();
  private newest = Number.NEGATIVE_INFINITY;
  private lastAccount = '';
  private lastAccountId = -1;
  records = 0;
  from = Number.POSITIVE_INFINITY;
  to = Number.NEGATIVE_INFINITY;

  add(at: number, bytes: number, account: string): void {
    const abs = Math.floor(at / SLOT_MS);
    const slot =
      (((abs - MONDAY_EPOCH / SLOT_MS) % SLOTS_PER_WEEK) + SLOTS_PER_WEEK) % SLOTS_PER_WEEK;
    this.transfers[slot] = (this.transfers[slot] as number) + 1;
    this.bytes[slot] = (this.bytes[slot] as number) + bytes;
    this.records++;
    if (at < this.from) this.from = at;
    if (at > this.to) this.to = at;
    let id = this.lastAccountId;
    if (account !== this.lastAccount) {
      id = this.accountIds.get(account) ?? this.accountIds.size;
      if (id === this.accountIds.size) this.accountIds.set(account, id);
      this.lastAccount = account;
      this.lastAccountId = id;
    }
    if (abs !== this.currentSlot) this.enter(abs);
    this.current.add(id);
  }

  private enter(abs: number): void {
    this.currentSlot = abs;
    let set = this.open.get(abs);
    if (set === undefined) {
      const packed = this.packed.get(abs);
      set = new Set(packed);
      if (packed !== undefined) this.packed.delete(abs);
      this.open.set(abs, set);
    }
    this.current = set;
    if (abs > this.newest) {
      this.newest = abs;
      for (const [slot, accounts] of this.open)
        if (slot <= abs - OPEN_SLOTS) {
          this.packed.set(slot, Uint32Array.from(accounts));
          this.open.delete(slot);
        }
    }
  }

  /** The profile of everything added; `span` widens the covered weeks beyond the first and last record. */
  profile(
    skipped: Skipped = { count: 0, examples: [] },
    sources: string[] = [],
    span?: { from: number; to: number },
  ): TrafficProfile {
    const accounts = new Float64Array(SLOTS_PER_WEEK);
    const count = (abs: number, n: number) => {
      const i =
        (((abs - MONDAY_EPOCH / SLOT_MS) % SLOTS_PER_WEEK) + SLOTS_PER_WEEK) % SLOTS_PER_WEEK;
      accounts[i] = (accounts[i] as number) + n;
    };
    for (const [abs, set] of this.open) count(abs, set.size);
    for (const [abs, arr] of this.packed) count(abs, arr.length);
    const empty = this.records === 0;
    const from = empty ? undefined : this.from;
    const to = empty ? undefined : this.to;
    const cover = span ?? (empty ? undefined : { from: this.from, to: this.to });
    return {
      slots: Array.from({ length: SLOTS_PER_WEEK }, (_, i) => ({
        transfers: this.transfers[i] as number,
        bytes: this.bytes[i] as number,
        accounts: accounts[i] as number,
      })),
      weeksCovered: weeksCovered(cover),
      ...(from === undefined ? {} : { from, to }),
      records: this.records,
      skipped,
      sources,
    };
  }
}

/**
 * For each slot of the week, how many of its occurrences overlap [from, to] (both ends included:
 * the slot holding the last record counts).
 */
export function weeksCovered(span: { from: number; to: number } | undefined): number[] {
  const covered = new Array<number>(SLOTS_PER_WEEK).fill(0);
  if (span === undefined || span.to < span.from) return covered;
  for (let week = weekStartOf(span.from); week <= span.to; week += WEEK_MS)
    for (let i = 0; i < SLOTS_PER_WEEK; i++) {
      const start = week + i * SLOT_MS;
      if (start + SLOT_MS > span.from && start <= span.to) covered[i] = (covered[i] as number) + 1;
    }
  return covered;
}

/**
 * The traffic profile of records from anywhere (a reader, a test, another product's export):
 * transfers, bytes and distinct accounts per 15-minute slot of the week, UTC.
 */
export async function buildTrafficProfile(
  records: Iterable<TransferRecord> | AsyncIterable<TransferRecord>,
  opts: { skipped?: Skipped; sources?: string[]; span?: { from: number; to: number } } = {},
): Promise<TrafficProfile> {
  const fold = new TrafficFold();
  if (Symbol.iterator in records) for (const r of records) fold.add(r.at, r.bytes, r.account);
  else for await (const r of records) fold.add(r.at, r.bytes, r.account);
  return fold.profile(opts.skipped, opts.sources, opts.span);
}
