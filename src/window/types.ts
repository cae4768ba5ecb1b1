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

/**
 * One `--allowed` rule: on these weekdays, from `startMinute` to `endMinute` local time in `zone`.
 * A window that crosses midnight (`22:00-04:00`) has `endMinute <= startMinute` and belongs to the
 * day it starts on.
 */
export interface AllowedRule {
  /** The rule as written, to name it in reasons and errors. */
  text: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  /** Minutes after local midnight, 0..1439. */
  startMinute: number;
  /** Minutes after local midnight, 1..1440 (1440 = the next midnight). */
  endMinute: number;
  /** IANA zone the times are in. */
  zone: string;
}

/** An interval of allowed time and the rule that gave it (the first, when rules overlap). */
export interface AllowedInterval extends Interval {
  rule: string;
}

/** What constrains a search, for the proposals' reasons and for a refusal. */
export interface WindowConstraints {
  /** Allowed-hours rules; none = every hour is allowed. */
  allowed?: readonly AllowedRule[];
  /** Blackout intervals, from the calendars; they need not be merged. */
  blackouts?: readonly BlackoutInterval[];
  /** Zone the windows are shown (and days counted) in; default the first rule's zone, else UTC. */
  zone?: string;
}

/** Where the time went, in seconds over the search span: explains a search that found nothing. */
export interface WindowFunnel {
  /** The span searched: `weeks` weeks from `from`. */
  spanSeconds: number;
  /** Of which the allowed rules allow. */
  allowedSeconds: number;
  /** Of which no blackout covers. */
  freeSeconds: number;
  /** The longest free stretch: a window longer than this cannot fit. */
  longestFreeSeconds: number;
  /** Candidate starts (15-minute boundaries) whose whole window fits. */
  candidates: number;
}

/** The answer of `findWindows`: the proposals, best first, and where the time went. */
export interface WindowSearch {
  windows: WindowProposal[];
  funnel: WindowFunnel;
  /** When `windows` is empty: which constraint removed everything, in one sentence. */
  why?: string;
}
