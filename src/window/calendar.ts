import ICAL from 'ical.js';
import { DateTime, IANAZone } from 'luxon';
import { UpliftError } from '../errors/index.ts';
import type { BlackoutInterval } from './types.ts';

type Time = InstanceType<typeof ICAL.Time>;
type Component = InstanceType<typeof ICAL.Component>;

/** An RRULE without end that would run this many times before `to` is refused, not looped on. */
const maxOccurrences = 200_000;
/**
 * An RRULE whose candidates (the times ical.js tries before its BY parts match one) pass this
 * number before the end of the search is refused: ical.js steps a rule that can never match
 * (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31`) forever, and one that does match but from years back
 * at a fine FREQ costs as much. About two seconds of stepping (an hourly rule from the 1970s fits).
 */
const maxCandidates = 500_000;

type Iterator = InstanceType<typeof ICAL.RecurIterator>;

export interface IcsOptions {
  /**
   * The zone of floating times and all-day dates when the calendar does not name one
   * (X-WR-TIMEZONE); default UTC.
   */
  floatingZone?: string;
  /** Told what was read but is likely not what the calendar meant (`file:line: …`). */
  onWarning?: (message: string) => void;
}

/**
 * The blackout intervals an iCalendar file gives over [from, to): each VEVENT, its RRULE expanded
 * by ical.js (EXDATE removes an occurrence, a RECURRENCE-ID component moves or reshapes one,
 * STATUS:CANCELLED drops it), ending at DTEND, or DTSTART + DURATION, or the next day for an
 * all-day event. TZIDs resolve against the file's own VTIMEZONE components (ical.js looks them up
 * per calendar, so one file's definitions never leak into another's); a TZID the file does not
 * define is read as the IANA zone of that name. Intervals are clipped to [from, to) and merged
 * per summary. Bad input is UPLIFT_CALENDAR_INVALID naming the file and, when known, the line.
 */
export function blackoutsFromIcs(
  text: string,
  source: string,
  from: number,
  to: number,
  opts: IcsOptions = {},
): BlackoutInterval[] {
  const calendar = parseCalendar(text, source);
  const floatingZone =
    zoneNamed(calendar.getFirstPropertyValue('x-wr-timezone')) ?? opts.floatingZone ?? 'UTC';
  const epoch = (t: Time, what: string, component: Component, like?: Time): number => {
    const floating = !t.zone || t.zone.tzid === 'floating';
    // An end ical.js derived from DTSTART + DURATION loses the start's undefined TZID: share it.
    const tzid = () =>
      zoneOfTzid(t, text, source, component) ??
      (like && zoneOfTzid(like, text, source, component)) ??
      floatingZone;
    const ms = t.isDate
      ? floatingMs(t, floatingZone)
      : floating
        ? floatingMs(t, tzid())
        : t.toUnixTime() * 1000;
    if (!Number.isFinite(ms))
      throw invalid(source, text, `${what} is not a date or date-time`, component, what);
    return ms;
  };

  /** A blackout that ends before it starts is refused rather than read as none. */
  const checkLength = (component: Component) => {
    const duration = component.getFirstPropertyValue('duration');
    if (duration instanceof ICAL.Duration && duration.isNegative && duration.toSeconds() !== 0)
      throw invalid(
        source,
        text,
        `DURATION ${duration.toString()} is negative: a blackout cannot end before it starts`,
        component,
        'DURATION',
      );
    const start = component.getFirstPropertyValue('dtstart');
    const end = component.getFirstPropertyValue('dtend');
    if (!(start instanceof ICAL.Time) || !(end instanceof ICAL.Time)) return;
    if (epoch(end, 'DTEND', component, start) < epoch(start, 'DTSTART', component))
      throw invalid(
        source,
        text,
        `DTEND ${end.toString()} is before DTSTART ${start.toString()}: a blackout cannot end before it starts`,
        component,
        'DTEND',
      );
  };

  const vevents = calendar.getAllSubcomponents('vevent');
  const out: BlackoutInterval[] = [];
  const push = (event: InstanceType<typeof ICAL.Event>, start: Time, end: Time) => {
    if (isCancelled(event.component)) return;
    const s = epoch(start, 'DTSTART', event.component);
    const e = end ? epoch(end, 'DTEND', event.component, start) : s;
    const stop = e > s ? e : start.isDate ? s + 86_400_000 : s;
    if (stop <= from || s >= to) return;
    out.push({
      start: Math.max(from, s),
      end: Math.min(to, stop),
      summary: event.summary || '(no summary)',
      source,
    });
  };

  for (const component of vevents) {
    checkValues(component, source, text);
    checkLength(component);
    checkRules(component, source, text);
  }
  for (const component of vevents) {
    if (component.hasProperty('recurrence-id')) continue;
    if (!component.hasProperty('dtstart'))
      throw invalid(source, text, 'an event has no DTSTART', component, 'BEGIN:VEVENT');
    if (isCancelled(component)) continue;
    const event = new ICAL.Event(component);
    const exceptions = vevents.filter(
      (v) => v.hasProperty('recurrence-id') && v.getFirstPropertyValue('uid') === event.uid,
    );
    for (const x of exceptions) event.relateException(x);
    if (!event.isRecurring()) {
      push(event, event.startDate, event.endDate);
      continue;
    }
    // Occurrences come in the order of their original start; a moved one is placed by its own.
    const bad = (err: unknown) =>
      invalid(
        source,
        text,
        `RRULE cannot be expanded: ${(err as Error).message}`,
        component,
        'RRULE',
        err,
      );
    let iterator: ReturnType<typeof event.iterator>;
    try {
      iterator = event.iterator();
    } catch (err) {
      throw bad(err);
    }
    const stopped = boundRules(iterator, to, () => {
      throw invalid(
        source,
        text,
        `its RRULE tries more than ${maxCandidates} candidate times before the end of the search: start the event nearer the search or use a coarser FREQ`,
        component,
        'RRULE',
      );
    });
    const step = () => {
      try {
        return iterator.next();
      } catch (err) {
        throw bad(err);
      }
    };
    const seen = new Set<string>();
    let count = 0;
    // An occurrence that ends a day before the search, and that no exception changes, needs no
    // details: skipping them halves the cost of a daily rule that began years ago.
    const lengthMs = event.duration.toSeconds() * 1000 + 86_400_000;
    const hasRangeExceptions = event.rangeExceptions.length > 0;
    for (let next = step(); next; next = step()) {
      const at = epoch(next, 'DTSTART', component);
      if (at >= to) break;
      if (++count > maxOccurrences)
        throw invalid(
          source,
          text,
          `event "${event.summary}" repeats more than ${maxOccurrences} times before the end of the search`,
          component,
          'RRULE',
        );
      const key = next.toString();
      seen.add(key);
      if (at + lengthMs < from && !hasRangeExceptions && !(key in event.exceptions)) continue;
      const d = event.getOccurrenceDetails(next);
      push(d.item, d.startDate, d.endDate);
    }
    if (stopped.some((s) => s.atDeadline && s.matched === 0))
      opts.onWarning?.(
        warningAt(
          source,
          text,
          `event "${event.summary}": RRULE gives no occurrence after DTSTART (${event.startDate.toString()}) up to the end of the search, so it blacks out nothing there; check its BY parts`,
          component,
          'RRULE',
        ),
      );
    // An exception moved into the search from an original start after it.
    for (const x of exceptions) {
      const moved = new ICAL.Event(x);
      if (!seen.has(moved.recurrenceId.toString())) push(moved, moved.startDate, moved.endDate);
    }
  }
  return mergeBySummary(out);
}

/**
 * Refuses an RRULE that ical.js would read as something else: a COUNT below 1 (ical.js reads
 * COUNT=0 as no limit and COUNT=-1 as no occurrence at all).
 */
function checkRules(component: Component, source: string, text: string): void {
  for (const property of component.getAllProperties('rrule'))
    for (const rule of property.getValues()) {
      const count = (rule as { count?: number | null }).count;
      if (typeof count === 'number' && count < 1)
        throw invalid(
          source,
          text,
          `RRULE has COUNT=${count}: a rule repeats at least once`,
          component,
          'RRULE',
        );
    }
}

/** What {@link boundRules} saw of one rule: its matches, and whether the deadline ended it. */
interface RuleBound {
  matched: number;
  atDeadline: boolean;
}

/**
 * Bounds ical.js's stepping of each RRULE of an expansion: a rule whose candidates pass two days
 * after `to` (beyond any zone's offset) is ended there, and `tooMany` is called once they pass
 * {@link maxCandidates}. ical.js loops inside one `next()` until a candidate matches, so the
 * bound has to sit in its candidate check.
 */
function boundRules(
  expansion: InstanceType<typeof ICAL.RecurExpansion>,
  to: number,
  tooMany: () => never,
): RuleBound[] {
  const end = new Date(to + 2 * 86_400_000);
  const deadline = end.getUTCFullYear() * 10_000 + (end.getUTCMonth() + 1) * 100 + end.getUTCDate();
  const iterators = (expansion as unknown as { ruleIterators?: Iterator[] }).ruleIterators ?? [];
  let candidates = 0;
  return iterators.map((it) => {
    const seen: RuleBound = { matched: 0, atDeadline: false };
    const patched = it as unknown as { check_contracting_rules(): boolean; completed: boolean };
    const check = patched.check_contracting_rules.bind(it);
    patched.check_contracting_rules = () => {
      if (++candidates > maxCandidates) tooMany();
      const at = it.last;
      if (at.year * 10_000 + at.month * 100 + at.day > deadline) {
        seen.atDeadline = true;
        patched.completed = true;
        return true;
      }
      const ok = check();
      if (ok) seen.matched++;
      return ok;
    };
    return seen;
  });
}

function parseCalendar(text: string, source: string): Component {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first === -1 || !/^BEGIN:VCALENDAR\s*$/i.test(lines[first] as string))
    throw invalid(
      source,
      text,
      first === -1
        ? 'the file is empty: expected BEGIN:VCALENDAR'
        : `expected BEGIN:VCALENDAR, found "${(lines[first] as string).slice(0, 40)}"`,
      undefined,
      first === -1 ? undefined : (lines[first] as string),
    );
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    throw invalid(
      source,
      text,
      `not an iCalendar file: ${message}`,
      undefined,
      quotedIn(message),
      err,
    );
  }
  // Several VCALENDARs concatenated parse as an array; a file of one is the usual case.
  const root = Array.isArray(jcal) && typeof jcal[0] === 'string' ? jcal : (jcal as unknown[])[0];
  if (!Array.isArray(root)) throw invalid(source, text, 'no BEGIN:VCALENDAR component in the file');
  const calendar = new ICAL.Component(root);
  if (calendar.name !== 'vcalendar')
    throw invalid(source, text, `expected BEGIN:VCALENDAR, found ${calendar.name.toUpperCase()}`);
  return calendar;
}

/** The text ical.js quotes in its message (`invalid line (no token ";" or ":") "foo"`). */
function quotedIn(message: string): string | undefined {
  return /"([^"]+)"\s*$/.exec(message)?.[1];
}

/**
 * Decodes every property of an event once, so that a value ical.js cannot read (a DTSTART of
 * `2026xx01`) is refused naming its property, rather than failing later in the expansion.
 */
function checkValues(component: Component, source: string, text: string): void {
  for (const property of component.getAllProperties()) {
    try {
      for (const value of property.getValues()) {
        if (value instanceof ICAL.Time && !Number.isFinite(value.toUnixTime()))
          throw new Error(`"${value.toString()}"`);
      }
    } catch (err) {
      const name = property.name.toUpperCase();
      throw invalid(
        source,
        text,
        `${name} cannot be read: ${(err as Error).message}`,
        component,
        name,
        err,
      );
    }
  }
}

function isCancelled(component: Component): boolean {
  return String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
}

function zoneNamed(value: unknown): string | undefined {
  return typeof value === 'string' && IANAZone.isValidZone(value) ? value : undefined;
}

/**
 * The zone of a time whose TZID the file does not define: the IANA zone of that name, or an
 * error (a Windows zone name, a typo) that asks for the VTIMEZONE.
 */
function zoneOfTzid(t: Time, text: string, source: string, component: Component) {
  const tzid = (t as unknown as { timezone?: string }).timezone;
  if (tzid === undefined) return undefined;
  if (IANAZone.isValidZone(tzid)) return tzid;
  throw invalid(
    source,
    text,
    `TZID "${tzid}" is neither defined by a VTIMEZONE in the file nor an IANA time zone`,
    component,
    `TZID=${tzid}`,
  );
}

/** A floating time or a date, read as wall-clock time in `zone`. */
function floatingMs(t: Time, zone: string): number {
  return DateTime.fromObject(
    {
      year: t.year,
      month: t.month,
      day: t.day,
      hour: t.isDate ? 0 : t.hour,
      minute: t.isDate ? 0 : t.minute,
      second: t.isDate ? 0 : t.second,
    },
    { zone },
  ).toMillis();
}

/** Joins overlapping intervals of the same event name (a daily rule with a 25-hour event). */
function mergeBySummary(list: BlackoutInterval[]): BlackoutInterval[] {
  const sorted = [...list].sort((a, b) => a.start - b.start || a.summary.localeCompare(b.summary));
  const out: BlackoutInterval[] = [];
  const lastOf = new Map<string, BlackoutInterval>();
  for (const b of sorted) {
    const last = lastOf.get(b.summary);
    if (last && b.start <= last.end) last.end = Math.max(last.end, b.end);
    else {
      const copy = { ...b };
      out.push(copy);
      lastOf.set(b.summary, copy);
    }
  }
  return out;
}

/**
 * UPLIFT_CALENDAR_INVALID at the first line of the file that holds `needle` (within the event's
 * lines when there is one): ical.js names the text it stumbled on but not its line.
 */
function invalid(
  source: string,
  text: string,
  what: string,
  component?: Component,
  needle?: string,
  cause?: unknown,
): UpliftError {
  const line = lineOf(text, what, component, needle);
  const summary = component?.getFirstPropertyValue('summary');
  return new UpliftError(
    'UPLIFT_CALENDAR_INVALID',
    `${typeof summary === 'string' ? `event "${summary}": ` : ''}${what}`,
    {
      hint: 'Export the calendar again as iCalendar (.ics) or fix that line; see docs/window.md.',
      location: { file: source, ...(line ? { line } : {}) },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** A warning about an event, `file:line: what`, the line found as {@link invalid} finds it. */
function warningAt(
  source: string,
  text: string,
  what: string,
  component: Component,
  needle: string,
): string {
  const line = lineOf(text, what, component, needle);
  return `${source}${line ? `:${line}` : ''}: ${what}`;
}

function lineOf(
  text: string,
  what: string,
  component?: Component,
  needle?: string,
): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  const uid = component?.getFirstPropertyValue('uid');
  if (typeof uid === 'string') {
    const k = lines.findIndex((l) => l.startsWith('UID') && l.endsWith(`:${uid}`));
    if (k !== -1)
      from = Math.max(
        0,
        lines.lastIndexOf('BEGIN:VEVENT', k) === -1 ? 0 : lines.lastIndexOf('BEGIN:VEVENT', k),
      );
  }
  let line: number | undefined;
  if (needle !== undefined) {
    const k = lines.findIndex((l, i) => i >= from && l.includes(needle));
    if (k !== -1) line = k + 1;
  } else if (/component began but did not end/.test(what)) {
    line = unclosedLine(lines);
  }
  return line;
}

/** The line of the innermost BEGIN that no END of its name closes. */
function unclosedLine(lines: string[]): number | undefined {
  const open: { name: string; line: number }[] = [];
  for (const [i, l] of lines.entries()) {
    const m = /^(BEGIN|END):(\S+)/i.exec(l);
    if (!m) continue;
    const name = (m[2] as string).toUpperCase();
    if ((m[1] as string).toUpperCase() === 'BEGIN') open.push({ name, line: i + 1 });
    else {
      const k = open.map((o) => o.name).lastIndexOf(name);
      if (k !== -1 && k < open.length - 1) return open.at(-1)?.line;
      if (k !== -1) open.pop();
    }
  }
  return open.at(-1)?.line;
}
