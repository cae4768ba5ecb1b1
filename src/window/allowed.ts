import { DateTime, IANAZone } from 'luxon';
import { UpliftError } from '../errors/index.ts';
import { mergeIntervals } from './intervals.ts';
import type { AllowedInterval, AllowedRule, Interval } from './types.ts';

const dayNames = [
  ['mon', 'monday'],
  ['tue', 'tuesday', 'tues'],
  ['wed', 'wednesday'],
  ['thu', 'thursday', 'thur', 'thurs'],
  ['fri', 'friday'],
  ['sat', 'saturday'],
  ['sun', 'sunday'],
] as const;

/** The form of a rule, for errors and `--help`. */
export const allowedForm =
  'DAYS [HH:MM-HH:MM] [ZONE], e.g. "Sat-Sun 00:00-06:00 Europe/Paris", "Mon,Wed 22:00-04:00", "Mon-Fri 20:00-23:30 America/New_York"';

function ruleError(text: string, what: string): UpliftError {
  return new UpliftError('UPLIFT_USAGE', `--allowed "${text}": ${what}`, {
    hint: `Write the rule as ${allowedForm} (days Mon..Sun, 24-hour times, an IANA zone; default UTC).`,
  });
}

function dayOf(text: string, word: string): number {
  const w = word.toLowerCase();
  const k = dayNames.findIndex((names) => (names as readonly string[]).includes(w));
  if (k === -1) throw ruleError(text, `"${word}" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)`);
  return k + 1;
}

function minuteOf(text: string, hhmm: string, isEnd: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  const h = Number(m?.[1]);
  const min = Number(m?.[2]);
  const total = h * 60 + min;
  if (!m || min > 59 || total > (isEnd ? 1440 : 1439))
    throw ruleError(text, `"${hhmm}" is not a time of day (00:00 to ${isEnd ? '24:00' : '23:59'})`);
  return total;
}

/**
 * Parses one `--allowed` rule: days (`Sat-Sun`, `Mon,Wed`, `Fri-Mon` wraps the week), an optional
 * time span (`00:00-06:00`; `22:00-04:00` crosses midnight and belongs to the day it starts on;
 * none = the whole day) and an optional IANA zone (default UTC). Bad input is UPLIFT_USAGE.
 */
export function parseAllowed(text: string): AllowedRule {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.length > 3)
    throw ruleError(text, 'expected days, times and a zone');
  const [dayWord, ...rest] = words as [string, ...string[]];
  const days = new Set<number>();
  for (const part of dayWord.split(',')) {
    const [a, b, extra] = part.split('-');
    if (a === undefined || a === '' || extra !== undefined || b === '')
      throw ruleError(text, `"${part}" is not a day or a range of days`);
    const first = dayOf(text, a);
    const last = b === undefined ? first : dayOf(text, b);
    for (let d = first; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === last) break;
    }
  }
  let startMinute = 0;
  let endMinute = 1440;
  let zone = 'UTC';
  for (const word of rest) {
    if (/^\d/.test(word)) {
      const [s, e, extra] = word.split('-');
      if (s === undefined || e === undefined || extra !== undefined)
        throw ruleError(text, `"${word}" is not a time span HH:MM-HH:MM`);
      startMinute = minuteOf(text, s, false);
      endMinute = minuteOf(text, e, true);
      if (endMinute === startMinute) throw ruleError(text, `"${word}" is an empty time span`);
    } else {
      if (!IANAZone.isValidZone(word))
        throw ruleError(
          text,
          `"${word}" is not an IANA time zone (Europe/Paris, America/New_York, UTC)`,
        );
      zone = word;
    }
  }
  return { text: text.trim(), days: [...days].sort(), startMinute, endMinute, zone };
}

/**
 * The allowed time of the rules over [from, to), merged, each piece naming the first rule that
 * gives it. Each day's span is laid out in the rule's zone with luxon, so a daylight-saving change
 * moves it in UTC and a night of the change is an hour shorter or longer; a local time that does
 * not exist (spring forward) moves to the first one after it.
 */
export function allowedIntervals(
  rules: readonly AllowedRule[],
  from: number,
  to: number,
): AllowedInterval[] {
  const pieces: AllowedInterval[] = [];
  for (const rule of rules) {
    // Local dates are walked with plain UTC date arithmetic; luxon places only the spans of the
    // rule's days in the zone (two conversions a day: its zone offsets are what costs).
    const first = DateTime.fromMillis(from, { zone: rule.zone }).minus({ days: 1 });
    const last = DateTime.fromMillis(to, { zone: rule.zone });
    const lastDay = Date.UTC(last.year, last.month - 1, last.day);
    const endMinute = rule.endMinute <= rule.startMinute ? rule.endMinute + 1440 : rule.endMinute;
    for (
      let day = Date.UTC(first.year, first.month - 1, first.day);
      day <= lastDay;
      day += 86_400_000
    ) {
      const weekday = ((new Date(day).getUTCDay() + 6) % 7) + 1;
      if (!rule.days.includes(weekday)) continue;
      const start = Math.max(from, wallTime(day, rule.startMinute, rule.zone));
      const end = Math.min(to, wallTime(day, endMinute, rule.zone));
      if (end > start) pieces.push({ start, end, rule: rule.text });
    }
  }
  return mergeNamed(pieces);
}

/**
 * The instant of `minute` minutes after the local midnight of a date (its UTC midnight in ms) in
 * `zone`; a time the zone skips (spring forward) moves to the first one after it.
 */
function wallTime(dayUtc: number, minute: number, zone: string): number {
  const d = new Date(dayUtc + Math.floor(minute / 1440) * 86_400_000);
  const m = minute % 1440;
  return DateTime.fromObject(
    {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: Math.floor(m / 60),
      minute: m % 60,
    },
    { zone },
  ).toMillis();
}

/** Merges pieces, each merged interval named by the rule of its first piece. */
function mergeNamed(pieces: AllowedInterval[]): AllowedInterval[] {
  const merged = mergeIntervals(pieces);
  const sorted = [...pieces].sort((a, b) => a.start - b.start);
  return merged.map((m: Interval) => ({
    ...m,
    rule: sorted.find((p) => p.start >= m.start && p.start < m.end)?.rule ?? '',
  }));
}
