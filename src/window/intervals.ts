import type { Interval } from './types.ts';

// Interval algebra on half-open [start, end) intervals of epoch ms. Every function returns a new,
// sorted, non-overlapping list and never changes its inputs.

/** Sorted, with overlapping and touching intervals joined; empty intervals dropped. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = list.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The time in both lists. */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const x = mergeIntervals(a);
  const y = mergeIntervals(b);
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as Interval;
    const q = y[j] as Interval;
    const start = Math.max(p.start, q.start);
    const end = Math.min(p.end, q.end);
    if (end > start) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

/** The time in `a` that no interval of `b` covers. */
export function subtractIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const cut = mergeIntervals(b);
  const out: Interval[] = [];
  for (const p of mergeIntervals(a)) {
    let start = p.start;
    for (const q of cut) {
      if (q.end <= start) continue;
      if (q.start >= p.end) break;
      if (q.start > start) out.push({ start, end: q.start });
      start = Math.max(start, q.end);
      if (start >= p.end) break;
    }
    if (start < p.end) out.push({ start, end: p.end });
  }
  return out;
}

/** Total length, ms, of a merged list. */
export function totalLength(list: readonly Interval[]): number {
  return list.reduce((sum, i) => sum + (i.end - i.start), 0);
}
