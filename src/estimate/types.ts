/**
 * The contract of `src/estimate` (issue 14): estimates that learn from measured runs. A learned
 * estimate starts from the catalog's figures scaled by facts (the plan's estimate) and is
 * calibrated from the measured step timings of earlier runs of the same hop, scaled by the
 * data-volume ratio.
 */

/** A duration as a range: the median and the 90th percentile, seconds. */
export interface Spread {
  p50: number;
  p90: number;
}

export interface LearnedEstimate {
  /** The hops the estimate covers, `from -> to` each. */
  hops: { from: string; to: string }[];
  /** The downtime a client sees (stop .. ready). */
  downtime: Spread;
  /** Total elapsed time of the apply, downtime included. */
  total: Spread;
  /** Time to validate after the start, and to roll back if needed (the guide's questions). */
  validate: Spread;
  rollback: Spread;
  /** Per phase (stop, switch, migrate, start, probe, validate), for the report's timeline. */
  phases: { phase: string; p50: number; p90: number }[];
  /** `catalog` when no measured run of the hop exists; else how many runs it learned from. */
  basis: { kind: 'catalog' } | { kind: 'measured'; runs: number; scaledBy: number; from: string[] };
}
