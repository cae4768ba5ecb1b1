import { DateTime } from 'luxon';
import type { TrafficProfile } from '../traffic/types.ts';
import { formatBytes, formatDuration } from '../util/index.ts';
import { allowedIntervals } from './allowed.ts';
import { intersectIntervals, mergeIntervals, subtractIntervals, totalLength } from './intervals.ts';
import type {
  AllowedInterval,
  BlackoutInterval,
  Interval,
  WindowConstraints,
  WindowFunnel,
  WindowProposal,
  WindowRequest,
  WindowSearch,
} from './types.ts';

/** The traffic profile's slot: 15 minutes; slot 0 starts Monday 00:00 UTC. */
const slotMs = 15 * 60_000;
const weekMs = 7 * 86_400_000;
/** 1970-01-05T00:00Z, the first Monday after the epoch: where slot 0 of every week starts. */
const monday0 = 4 * 86_400_000;
/** How close a blackout must come to a window to be named as one it avoids. */
const nearMs = 12 * 3_600_000;

interface Candidate {
  start: number;
  end: number;
  transfers: number;
  bytes: number;
  accounts: number;
  /** Share of the window (0..1) in slots no week of the log covers. */
  unknown: number;
}

/**
 * The best `request.count` windows of `request.durationSeconds` over `request.weeks` weeks from
 * `request.from`, inside the allowed hours and outside every blackout, best first. Candidates
 * start on 15-minute boundaries; a window's expected transfers are the per-week averages of the
 * slots it overlaps (a partly covered slot counts pro rata). The order: windows wholly covered by
 * the log before those that are not, then fewer transfers, fewer bytes, fewer accounts, earlier.
 * Chosen windows do not overlap and no two start on the same day (in the display zone), so the
 * proposals are alternatives rather than neighbouring starts of one quiet night.
 */
export function findWindows(
  profile: TrafficProfile,
  request: WindowRequest,
  constraints: WindowConstraints = {},
): WindowSearch {
  const zone = constraints.zone ?? constraints.allowed?.[0]?.zone ?? 'UTC';
  const durationMs = Math.round(request.durationSeconds * 1000);
  const span: Interval = { start: request.from, end: request.from + request.weeks * weekMs };
  const rules = constraints.allowed ?? [];
  const allowed: AllowedInterval[] =
    rules.length > 0 ? allowedIntervals(rules, span.start, span.end) : [{ ...span, rule: '' }];
  const blackouts = [...(constraints.blackouts ?? [])];
  const free = subtractIntervals(allowed, blackouts);
  const score = slotScorer(profile);

  const candidates: Candidate[] = [];
  for (const f of free) {
    for (let s = Math.ceil(f.start / slotMs) * slotMs; s + durationMs <= f.end; s += slotMs)
      candidates.push({ start: s, end: s + durationMs, ...score(s, durationMs) });
  }
  const funnel: WindowFunnel = {
    spanSeconds: (span.end - span.start) / 1000,
    allowedSeconds: totalLength(allowed) / 1000,
    freeSeconds: totalLength(free) / 1000,
    longestFreeSeconds: Math.max(0, ...free.map((f) => f.end - f.start)) / 1000,
    candidates: candidates.length,
  };
  if (candidates.length === 0)
    return { windows: [], funnel, why: whyNone(funnel, request, rules, blackouts, span, zone) };

  const sorted = [...candidates].sort(compareCandidates);
  const picked: Candidate[] = [];
  const days = new Set<string>();
  for (const c of sorted) {
    if (picked.length >= request.count) break;
    if (picked.some((p) => c.start < p.end && p.start < c.end)) continue;
    const day = DateTime.fromMillis(c.start, { zone }).toISODate() as string;
    if (days.has(day)) continue;
    picked.push(c);
    days.add(day);
  }
  const median = medianOf(candidates.map((c) => c.transfers));
  const windows = picked.map((c, k): WindowProposal => {
    const reasons = [transferReason(c, k, median, candidates.length)];
    const next = picked[k + 1];
    if (next) {
      const tie = tieReason(c, next, k + 2);
      if (tie) reasons.push(tie);
    }
    if (c.unknown > 0)
      reasons.push(
        `no week of the log covers ${Math.round(c.unknown * 100)} % of this window: its traffic there is unknown`,
      );
    const home = allowed.find((a) => a.start <= c.start && c.end <= a.end);
    if (home?.rule) reasons.push(`inside the allowed hours "${home.rule}"`);
    const dst = dstReason(c, zone);
    if (dst) reasons.push(dst);
    for (const b of nearBlackouts(c, home, blackouts))
      reasons.push(`avoids blackout "${b.summary}" (${formatSpan(b, zone)})`);
    return {
      start: c.start,
      end: c.end,
      zone,
      expectedTransfers: round(c.transfers),
      expectedBytes: Math.round(c.bytes),
      expectedAccounts: round(c.accounts),
      rank: k + 1,
      reasons,
    };
  });
  return { windows, funnel };
}

/**
 * Scores a window from the profile with prefix sums over the week of per-week averages: a slot
 * no week covers counts as zero traffic and as unknown.
 */
function slotScorer(profile: TrafficProfile) {
  const n = profile.slots.length;
  if (n === 0 || n !== profile.weeksCovered.length)
    throw new Error(`a traffic profile has ${n} slots and ${profile.weeksCovered.length} weeks`);
  const prefixed = (values: number[]) => {
    const prefix = [0];
    for (const v of values) prefix.push((prefix.at(-1) as number) + v);
    return { values, prefix };
  };
  const perWeek = (key: 'transfers' | 'bytes' | 'accounts') =>
    prefixed(
      profile.slots.map((slot, i) => {
        const weeks = profile.weeksCovered[i] ?? 0;
        return weeks > 0 ? slot[key] / weeks : 0;
      }),
    );
  const transfers = perWeek('transfers');
  const bytes = perWeek('bytes');
  const accounts = perWeek('accounts');
  const unknown = prefixed(profile.weeksCovered.map((w) => (w > 0 ? 0 : 1)));

  const sum = (
    { values, prefix }: { values: number[]; prefix: number[] },
    i: number,
    k: number,
    frac: number,
  ) => {
    const total = prefix[n] as number;
    const whole = Math.floor(k / n) * total;
    const r = k % n;
    const part =
      i + r <= n
        ? (prefix[i + r] as number) - (prefix[i] as number)
        : total - (prefix[i] as number) + (prefix[i + r - n] as number);
    return whole + part + frac * (values[(i + k) % n] as number);
  };
  return (start: number, durationMs: number) => {
    const i = Math.floor(((((start - monday0) % weekMs) + weekMs) % weekMs) / slotMs);
    const k = Math.floor(durationMs / slotMs);
    const frac = (durationMs % slotMs) / slotMs;
    return {
      transfers: sum(transfers, i, k, frac),
      bytes: sum(bytes, i, k, frac),
      accounts: sum(accounts, i, k, frac),
      unknown: sum(unknown, i, k, frac) / (durationMs / slotMs),
    };
  };
}

const eps = 1e-9;
function compareCandidates(a: Candidate, b: Candidate): number {
  const known = Number(a.unknown > 0) - Number(b.unknown > 0);
  if (known !== 0) return known;
  if (Math.abs(a.transfers - b.transfers) > eps) return a.transfers - b.transfers;
  if (Math.abs(a.bytes - b.bytes) > eps) return a.bytes - b.bytes;
  if (Math.abs(a.accounts - b.accounts) > eps) return a.accounts - b.accounts;
  return a.start - b.start;
}

function medianOf(values: number[]): number {
  const s = Float64Array.from(values).sort();
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (x: number) => Math.round(x * 100) / 100;
const show = (x: number) => (x >= 10 ? String(Math.round(x)) : String(round(x)));

function transferReason(c: Candidate, k: number, median: number, count: number): string {
  const what = k === 0 ? `fewest transfers of ${count} candidate starts: ` : '';
  const expected = c.transfers < eps ? 'no transfers expected' : `${show(c.transfers)} expected`;
  const vs =
    median > eps && c.transfers < median - eps
      ? c.transfers < eps
        ? `, against ${show(median)} in the median candidate`
        : `, ${show(median / c.transfers)}× fewer than the median candidate (${show(median)})`
      : ` (the median candidate: ${show(median)})`;
  return `${what}${expected}${vs}; ${formatBytes(Math.round(c.bytes))} and ${show(c.accounts)} account-slots`;
}

/** Why `a` ranks ahead of `b` when they tie on transfers. */
function tieReason(a: Candidate, b: Candidate, rankB: number): string | undefined {
  if (Math.abs(a.transfers - b.transfers) > eps || a.unknown > 0 !== b.unknown > 0)
    return undefined;
  if (Math.abs(a.bytes - b.bytes) > eps)
    return `ties with rank ${rankB} on transfers; ahead on bytes (${formatBytes(Math.round(a.bytes))} against ${formatBytes(Math.round(b.bytes))})`;
  if (Math.abs(a.accounts - b.accounts) > eps)
    return `ties with rank ${rankB} on transfers and bytes; ahead on accounts (${show(a.accounts)} against ${show(b.accounts)})`;
  return `ties with rank ${rankB} on transfers, bytes and accounts; ahead because it is earlier`;
}

/** A window across a daylight-saving change: its wall-clock span is not its real length. */
function dstReason(c: Candidate, zone: string): string | undefined {
  const a = DateTime.fromMillis(c.start, { zone });
  const b = DateTime.fromMillis(c.end, { zone });
  if (a.offset === b.offset) return undefined;
  return `crosses the daylight-saving change in ${zone} (${a.toFormat('ZZ')} to ${b.toFormat('ZZ')}): ${a.toFormat('HH:mm')}-${b.toFormat('HH:mm')} local time is ${formatDuration((c.end - c.start) / 1000)}`;
}

/** The blackouts that cut into the allowed stretch holding the window, or come within 12 hours of it. */
function nearBlackouts(
  c: Candidate,
  home: Interval | undefined,
  blackouts: readonly BlackoutInterval[],
): BlackoutInterval[] {
  const around = mergeIntervals([
    { start: c.start - nearMs, end: c.end + nearMs },
    ...(home ? [home] : []),
  ]);
  const named = new Map<string, BlackoutInterval>();
  for (const b of [...blackouts].sort((x, y) => distance(c, x) - distance(c, y))) {
    if (intersectIntervals(around, [b]).length === 0 && !touches(around, b)) continue;
    if (!named.has(b.summary)) named.set(b.summary, b);
  }
  return [...named.values()].slice(0, 3);
}

const touches = (list: Interval[], b: Interval) =>
  list.some((i) => i.start === b.end || i.end === b.start);
const distance = (c: Interval, b: Interval) => Math.max(0, b.start - c.end, c.start - b.end);

/** `Fri 30 Oct 18:00-Mon 2 Nov 06:00`, or `Sat 31 Oct 00:00-05:30` within a day, in the zone. */
export function formatSpan(i: Interval, zone: string): string {
  const a = DateTime.fromMillis(i.start, { zone });
  const b = DateTime.fromMillis(i.end, { zone });
  const day = 'ccc d LLL';
  const sameDay = a.toISODate() === b.toISODate();
  return `${a.toFormat(`${day} HH:mm`)}-${b.toFormat(sameDay ? 'HH:mm' : `${day} HH:mm`)}`;
}

function whyNone(
  funnel: WindowFunnel,
  request: WindowRequest,
  rules: WindowConstraints['allowed'] & object,
  blackouts: readonly BlackoutInterval[],
  span: Interval,
  zone: string,
): string {
  const length = formatDuration(request.durationSeconds);
  const over = `between ${formatSpan(span, zone)} (${zone})`;
  if (funnel.allowedSeconds === 0)
    return `the allowed hours (${rules.map((r) => `"${r.text}"`).join(', ')}) give no time ${over}`;
  if (funnel.freeSeconds === 0) {
    const names = [...new Set(blackouts.map((b) => `"${b.summary}"`))].slice(0, 5).join(', ');
    return `blackouts (${names}) cover all ${formatDuration(funnel.allowedSeconds)} of allowed time ${over}`;
  }
  if (funnel.longestFreeSeconds < request.durationSeconds)
    return `the longest stretch of allowed time outside blackouts ${over} is ${formatDuration(funnel.longestFreeSeconds)}, shorter than the ${length} window`;
  return `no ${length} window starting on a 15-minute boundary fits in the allowed time outside blackouts ${over} (the longest stretch is ${formatDuration(funnel.longestFreeSeconds)})`;
}
