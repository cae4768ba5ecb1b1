import type { LocalClock } from './zone.ts';

/** Where a parsed line goes: one call per transfer, no object made per line. */
export interface RecordSink {
  add(at: number, bytes: number, account: string, incoming: boolean, completed: boolean): void;
}

/** Parses one line of a log into the sink; returns why it could not, or undefined when it did. */
export type LineParser = (buf: Buffer, start: number, end: number) => string | undefined;

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const ZERO = 0x30;

const monthKeys = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];
const pack = (s: string) => (s.charCodeAt(0) << 16) | (s.charCodeAt(1) << 8) | s.charCodeAt(2);
/** Month by its three bytes packed in one number: 'Jan' → 1. */
const months = new Map(monthKeys.map((m, i) => [pack(m), i + 1]));
/** Weekdays packed the same way, by days since 1970-01-01 (a Thursday) modulo 7. */
const weekdays = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed'].map(pack);

/** How far ahead of now a line may be dated (a log in the wrong zone, a clock a little fast). */
const FUTURE_SLACK_MS = 2 * 86_400_000;

/**
 * Why a transfer's instant cannot be one a log recorded, or undefined: before 1970, or after
 * `now` (with two days of slack). Such a line would stretch the profile over the years between.
 */
export function impossibleTime(at: number, now: number): string | undefined {
  if (at < 0) return 'the time is before 1970';
  if (at > now + FUTURE_SLACK_MS)
    return `the time is after now (${new Date(now).toISOString().slice(0, 10)})`;
  return undefined;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The byte of the k-th field from the end when it is one byte long, else -1. */
function single(buf: Buffer, tail: Int32Array, fields: number, k: number): number {
  return k < fields && (tail[k * 2 + 1] as number) - (tail[k * 2] as number) === 1
    ? (buf[tail[k * 2] as number] as number)
    : -1;
}

/**
 * Account names by their bytes, so that a line whose account was seen before makes no string:
 * an FNV-1a hash of the bytes finds the name, a byte comparison confirms it.
 */
class NameTable {
  private readonly byHash = new Map<number, { name: string; bytes: Buffer }>();

  get(buf: Buffer, start: number, end: number): string {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    const hit = this.byHash.get(h);
    if (hit !== undefined && hit.bytes.length === end - start) {
      let same = true;
      for (let i = start, j = 0; i < end; i++, j++)
        if (buf[i] !== hit.bytes[j]) {
          same = false;
          break;
        }
      if (same) return hit.name;
    }
    const name = buf.toString('utf8', start, end);
    if (hit === undefined)
      this.byHash.set(h, { name, bytes: Buffer.from(buf.subarray(start, end)) });
    return name;
  }
}

const isDigit = (b: number) => b >= ZERO && b <= ZERO + 9;
const isBlank = (b: number) => b === SPACE || b === TAB;

/**
 * A parser of xferlog lines, the wu-ftpd layout ProFTPD and others write too:
 *
 * ```
 * Mon Nov  6 20:52:33 2026 3 10.0.0.7 48213 /inbound/a.edi b _ i r globex http 0 * c
 * current-time (ctime(3), local) transfer-time remote-host file-size filename transfer-type
 * special-action direction access-mode username service auth-method auth-user-id completion
 * ```
 *
 * The time is read at its fixed ctime positions and turned into UTC by `clock`. The file name is
 * whatever lies between the size and the last nine fields, so a writer that keeps blanks in names
 * is read too. Lines without the completion status (older wu-ftpd) are read as completed.
 * Direction `d` (ProFTPD's deletes) is no transfer: such lines are neither records nor bad.
 */
export function xferlogParser(clock: LocalClock, sink: RecordSink, now: number): LineParser {
  let dayKey = -1;
  let dayMs = 0;
  /** Of the cached day: why it is no date (Feb 30), or undefined; and its weekday, packed. */
  let dayProblem: string | undefined;
  let dayWeekday = 0;
  const tail = new Int32Array(18);
  const names = new NameTable();

  return (buf, start, end) => {
    while (end > start && (buf[end - 1] === CR || isBlank(buf[end - 1] as number))) end--;
    const p = start;
    if (end - p < 40) return 'too short for an xferlog line';
    if (
      buf[p + 3] !== SPACE ||
      buf[p + 7] !== SPACE ||
      buf[p + 10] !== SPACE ||
      buf[p + 13] !== 0x3a ||
      buf[p + 16] !== 0x3a ||
      buf[p + 19] !== SPACE ||
      buf[p + 24] !== SPACE
    )
      return 'the time is not in ctime layout (Mon Nov  6 20:52:33 2026)';
    const month = months.get(
      ((buf[p + 4] as number) << 16) | ((buf[p + 5] as number) << 8) | (buf[p + 6] as number),
    );
    if (month === undefined) return 'unknown month in the time';
    const d1 = buf[p + 8] as number;
    const d2 = buf[p + 9] as number;
    const h1 = buf[p + 11] as number;
    const h2 = buf[p + 12] as number;
    const m1 = buf[p + 14] as number;
    const m2 = buf[p + 15] as number;
    const s1 = buf[p + 17] as number;
    const s2 = buf[p + 18] as number;
    const y1 = buf[p + 20] as number;
    const y2 = buf[p + 21] as number;
    const y3 = buf[p + 22] as number;
    const y4 = buf[p + 23] as number;
    if (
      !(d1 === SPACE || isDigit(d1)) ||
      !isDigit(d2) ||
      !isDigit(h1) ||
      !isDigit(h2) ||
      !isDigit(m1) ||
      !isDigit(m2) ||
      !isDigit(s1) ||
      !isDigit(s2) ||
      !isDigit(y1) ||
      !isDigit(y2) ||
      !isDigit(y3) ||
      !isDigit(y4)
    )
      return 'the time has a non-digit where ctime has digits';
    const day = (d1 === SPACE ? 0 : d1 - ZERO) * 10 + d2 - ZERO;
    const year = (y1 - ZERO) * 1000 + (y2 - ZERO) * 100 + (y3 - ZERO) * 10 + y4 - ZERO;
    const hour = (h1 - ZERO) * 10 + h2 - ZERO;
    const minute = (m1 - ZERO) * 10 + m2 - ZERO;
    const second = (s1 - ZERO) * 10 + s2 - ZERO;
    if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
      return 'the time is out of range';
    const key = (year * 13 + month) * 32 + day;
    if (key !== dayKey) {
      dayKey = key;
      const days = daysFromCivil(year, month, day);
      dayMs = days * 86_400_000;
      dayWeekday = weekdays[((days % 7) + 7) % 7] as number;
      const nextMonth =
        month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
      dayProblem = days >= nextMonth ? 'the date does not exist' : undefined;
    }
    if (dayProblem !== undefined) return dayProblem;
    if (
      (((buf[p] as number) << 16) | ((buf[p + 1] as number) << 8) | (buf[p + 2] as number)) !==
      dayWeekday
    )
      return 'the weekday does not match the date';
    const local = dayMs + ((hour * 60 + minute) * 60 + second) * 1000;

    // transfer-time, remote-host, then file-size.
    let i = p + 25;
    for (let field = 0; field < 2; field++) {
      while (i < end && isBlank(buf[i] as number)) i++;
      if (i < end && field === 0 && !isDigit(buf[i] as number))
        return 'transfer-time is not a number';
      while (i < end && !isBlank(buf[i] as number)) i++;
    }
    while (i < end && isBlank(buf[i] as number)) i++;
    let bytes = 0;
    const sizeStart = i;
    while (i < end && isDigit(buf[i] as number)) bytes = bytes * 10 + (buf[i++] as number) - ZERO;
    if (i === sizeStart || (i < end && !isBlank(buf[i] as number)))
      return 'file-size is not a number';
    const nameStart = i;

    // The last fields, right to left: tail[2k], tail[2k+1] = start, end of the k-th from the end.
    let fields = 0;
    let j = end;
    while (fields < 9 && j > nameStart) {
      const fieldEnd = j;
      while (j > nameStart && !isBlank(buf[j - 1] as number)) j--;
      tail[fields * 2] = j;
      tail[fields * 2 + 1] = fieldEnd;
      fields++;
      while (j > nameStart && isBlank(buf[j - 1] as number)) j--;
    }
    let completed = true;
    let user = 3;
    let direction = single(buf, tail, fields, 5);
    const status = single(buf, tail, fields, 0);
    if ((status === 0x63 || status === 0x69) && fields === 9 && j > nameStart) {
      completed = status === 0x63;
      user = 4;
      direction = single(buf, tail, fields, 6);
    } else if (fields < 8 || (fields === 8 && j <= nameStart)) {
      return 'fewer fields than the xferlog layout has';
    }
    if (direction === 0x64) return undefined;
    if (direction !== 0x69 && direction !== 0x6f)
      return 'direction is not i, o or d where the xferlog layout has it';
    const at = clock.toUtc(local);
    const impossible = impossibleTime(at, now);
    if (impossible !== undefined) return impossible;
    const account = names.get(buf, tail[user * 2] as number, tail[user * 2 + 1] as number);
    sink.add(at, bytes, account, direction === 0x69, completed);
    return undefined;
  };
}
