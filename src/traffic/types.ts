/**
 * The contract of `src/traffic` (issue 14): what a transfer log says about when a service is busy.
 * Readers stream a log (xferlog, gzip'd or not, or a profile-declared format) into records; the
 * profile folds records into per-slot counts over the week. Everything is in UTC instants; slots
 * are 15-minute buckets of the week counted from Monday 00:00 UTC (slot 0) to Sunday 23:45 (671).
 */

/** One finished or failed transfer, as a log line gives it. */
export interface TransferRecord {
  /** When the transfer ended, epoch milliseconds UTC. */
  at: number;
  bytes: number;
  account: string;
  direction: 'in' | 'out';
  completed: boolean;
}

export const SLOT_MINUTES = 15;
export const SLOTS_PER_WEEK = (7 * 24 * 60) / SLOT_MINUTES; // 672

export interface TrafficSlot {
  /** Transfers that ended in this slot, summed over every week of the log. */
  transfers: number;
  bytes: number;
  /** Distinct accounts seen in this slot, summed over weeks (each week counted on its own). */
  accounts: number;
}

export interface TrafficProfile {
  /** SLOTS_PER_WEEK entries, slot 0 = Monday 00:00-00:15 UTC. */
  slots: TrafficSlot[];
  /** How many times each slot was covered by the log's span (for averages per week). */
  weeksCovered: number[];
  /** First and last record, epoch ms UTC; undefined for an empty log. */
  from?: number;
  to?: number;
  records: number;
  /** Lines that could not be read, with the first few for the message. */
  skipped: { count: number; examples: { file: string; line: number; reason: string }[] };
  /** The files read, in order. */
  sources: string[];
}
