/**
 * The contract of `src/window` (issue 14): maintenance windows proposed from traffic, blackout
 * calendars and allowed hours. All instants are epoch milliseconds UTC; time zones only matter
 * when rules are expanded and when windows are shown.
 */

/** A half-open interval [start, end) of epoch ms. */
export interface Interval {
  start: number;
  end: number;
}

export interface BlackoutInterval extends Interval {
  /** The event's SUMMARY and the file it came from, to explain a refusal. */
  summary: string;
  source: string;
}

export interface WindowProposal {
  start: number;
  end: number;
  /** IANA zone the window is shown in (the allowed-hours rule's, else UTC). */
  zone: string;
  /** Transfers expected in the window (average per week of the slots it covers). */
  expectedTransfers: number;
  expectedBytes: number;
  expectedAccounts: number;
  /** 1 = best. */
  rank: number;
  /** Why it ranks where it does, one short sentence per reason. */
  reasons: string[];
}

export interface WindowRequest {
  /** Downtime + validation + rollback allowance, seconds: the length each window must have. */
  durationSeconds: number;
  /** Search from this instant (epoch ms) over `weeks` weeks. */
  from: number;
  weeks: number;
  /** How many windows to propose. */
  count: number;
}
