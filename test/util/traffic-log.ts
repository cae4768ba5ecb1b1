import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createGzip, type Gzip } from 'node:zlib';
import { DateTime } from 'luxon';
import { createRandom } from '../../bench/random.ts';

/**
 * A realistic, deterministic xferlog with a KNOWN quiet window, for the window search's tests and
 * the traffic bench (`bench/traffic.ts`).
 *
 * Contract (what a test may rely on):
 * - Lines are exactly skiff's (`products/skiff/src/xferlog.ts`, `formatXferlogLine`):
 *   `Sun Mar 29 03:10:07 2026 4 10.1.0.17 48213 /inbound/ORDERS_…edi b _ i r acct-017 http 0 * c`,
 *   the time in ctime layout, local time of `zone` (as a server in that zone writes it), lines in
 *   time order. Read them with `readTrafficProfile([path], { zone })`.
 * - The log covers [start, start + weeks × 7 days) (UTC instants; `start` is taken as given: pass
 *   a Monday 00:00 in `zone` for whole local weeks).
 * - Traffic follows a seeded curve in LOCAL time of `zone`: weekdays peak at 10:00 and 15:00 and
 *   never fall below 8 % of the peak at night, with a batch burst every day at 01:00-01:30;
 *   Saturday runs at 35 %, Sunday at 25 % of a weekday. Every hour has its own noise (±15 %).
 * - The quiet window `quiet` (a local weekday and [from, to) wall-clock times, `'02:00'`-`'05:00'`)
 *   carries about 1 % of the night rate: it is by far the quietest block of that length in every
 *   week, and the slots around it are not quiet. Across a daylight-saving change the window keeps
 *   its wall-clock times (on the last Sunday of March in Europe/Paris 02:00-03:00 does not exist,
 *   so that day's window is 03:00-05:00 local = 01:00-03:00 UTC).
 * - The result tells the quiet window of every week as UTC intervals (`quietIntervals`) and how
 *   many transfers fell inside them (`quietTransfers`): assert against those, not hard-coded times.
 * - Same options, same bytes: the output depends only on the options.
 */
export interface XferlogOptions {
  weeks: number;
  /** The first instant of the log: a Date, epoch ms or an ISO string with offset. */
  start: Date | number | string;
  seed: number;
  /** IANA zone the server writes local time in (default Europe/Paris). */
  zone?: string;
  /** The quiet block: day 0 = Sunday … 6 = Saturday (Date#getDay), times `HH:MM` local. */
  quiet: { day: number; from: string; to: string };
  /** Write a gzip'd file (one gzip member). */
  gzip?: boolean;
  /** About how many transfers an average hour holds (default 40); the bench sets `targetBytes` instead. */
  perHour?: number;
  /** Scale the traffic so that the (uncompressed) log is about this many bytes. */
  targetBytes?: number;
  /** Accounts (default 200), popular ones busier (Zipf-like). */
  accounts?: number;
}

export interface XferlogCounts {
  /** Lines written = transfers. */
  lines: number;
  /** Uncompressed bytes of the log. */
  bytes: number;
  /** Bytes on disk (the gzip's size when gzip'd). */
  fileBytes: number;
  /** Transfers not completed (`i`). */
  incomplete: number;
  /** Distinct accounts in the log. */
  accounts: number;
  /** First and last transfer, epoch ms UTC. */
  from: number;
  to: number;
  /** The quiet window of each week the log covers, [start, end) epoch ms UTC. */
  quietIntervals: { start: number; end: number }[];
  /** Transfers inside the quiet windows, all weeks together. */
  quietTransfers: number;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** The relative rate of a local minute (weekday 0 = Sunday), before noise. */
function curve(weekday: number, minuteOfDay: number): number {
  const h = minuteOfDay / 60;
  const bump = (centre: number, width: number) => Math.exp(-(((h - centre) / width) ** 2));
  let rate = 0.08 + 0.92 * Math.max(bump(10, 2.2), 0.9 * bump(15, 2.5));
  if (minuteOfDay >= 60 && minuteOfDay < 90) rate += 0.5;
  if (weekday === 6) rate *= 0.35;
  if (weekday === 0) rate *= 0.25;
  return rate;
}

/** Writes the log; resolves once it is on disk. */
export async function writeXferlog(path: string, o: XferlogOptions): Promise<XferlogCounts> {
  const zone = o.zone ?? 'Europe/Paris';
  const start =
    o.start instanceof Date
      ? o.start.getTime()
      : typeof o.start === 'number'
        ? o.start
        : Date.parse(o.start);
  const end = start + o.weeks * 7 * 86_400_000;
  const quietFrom = minutesOf(o.quiet.from);
  const quietTo = minutesOf(o.quiet.to);
  const nAccounts = o.accounts ?? 200;

  // The local time of each UTC minute, computed once per minute (luxon is slow per line).
  interface Minute {
    prefix: string;
    suffix: string;
    rate: number;
    quiet: boolean;
  }
  const minuteInfo = (ms: number): Minute => {
    const t = DateTime.fromMillis(ms, { zone });
    const weekday = t.weekday % 7;
    const mod = t.hour * 60 + t.minute;
    const quiet = weekday === o.quiet.day && mod >= quietFrom && mod < quietTo;
    const rate = curve(weekday, mod);
    return {
      prefix: `${days[weekday]} ${months[t.month - 1]} ${String(t.day).padStart(2, ' ')} ${two(t.hour)}:${two(t.minute)}:`,
      suffix: ` ${t.year}`,
      // The night floor of a Sunday is 0.02: 1 % of it is 0.0002.
      rate: quiet ? 0.0002 : rate,
      quiet,
    };
  };

  const hourNoise = createRandom(o.seed ^ 0x5eed);
  const noise: number[] = [];
  for (let h = 0; h < o.weeks * 168 + 1; h++) noise.push(0.85 + 0.3 * hourNoise());
  let total = 0;
  for (let ms = start; ms < end; ms += 60_000)
    total += minuteInfo(ms).rate * (noise[Math.floor((ms - start) / 3_600_000)] as number);
  const averageLine = 100;
  const wanted =
    o.targetBytes !== undefined ? o.targetBytes / averageLine : (o.perHour ?? 40) * o.weeks * 168;
  const scale = wanted / total;

  // Zipf-like account popularity: a cumulative table to draw from.
  const weights = Array.from({ length: nAccounts }, (_, i) => 1 / (i + 1) ** 0.8);
  const sum = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / sum;
    cumulative.push(acc);
  }
  const names = Array.from({ length: nAccounts }, (_, i) => `acct-${String(i).padStart(3, '0')}`);
  const hosts = Array.from(
    { length: nAccounts },
    (_, i) => `10.${1 + (i >> 8)}.${i & 255}.${(i * 7) % 250}`,
  );
  const kinds = ['/inbound/ORDERS_', '/outbound/INVOIC_', '/payroll/batch-', '/exports/ledger-'];
  const exts = ['.edi', '.edi', '.csv', '.csv'];

  const rnd = createRandom(o.seed);
  const file = createWriteStream(path);
  let out: WriteStream | Gzip = file;
  if (o.gzip) {
    const gz = createGzip({ level: 6 });
    gz.pipe(file);
    out = gz;
  }
  const seen = new Set<number>();
  const counts: XferlogCounts = {
    lines: 0,
    bytes: 0,
    fileBytes: 0,
    incomplete: 0,
    accounts: 0,
    from: Number.NaN,
    to: Number.NaN,
    quietIntervals: [],
    quietTransfers: 0,
  };
  let quietOpen: number | undefined;
  let buffer = '';
  const flush = async () => {
    counts.bytes += Buffer.byteLength(buffer);
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  const seconds: number[] = [];
  for (let ms = start; ms < end; ms += 60_000) {
    const m = minuteInfo(ms);
    if (m.quiet && quietOpen === undefined) quietOpen = ms;
    if (!m.quiet && quietOpen !== undefined) {
      counts.quietIntervals.push({ start: quietOpen, end: ms });
      quietOpen = undefined;
    }
    const lambda = m.rate * scale * (noise[Math.floor((ms - start) / 3_600_000)] as number);
    const n = Math.floor(lambda) + (rnd() < lambda - Math.floor(lambda) ? 1 : 0);
    seconds.length = 0;
    for (let k = 0; k < n; k++) seconds.push(Math.floor(rnd() * 60));
    seconds.sort((a, b) => a - b);
    for (const s of seconds) {
      const r = rnd();
      let a = 0;
      let hi = nAccounts - 1;
      while (a < hi) {
        const mid = (a + hi) >> 1;
        if ((cumulative[mid] as number) < r) a = mid + 1;
        else hi = mid;
      }
      seen.add(a);
      const kind = Math.floor(rnd() * 4);
      const bytes = Math.floor(200 * Math.exp(rnd() * 9));
      const complete = rnd() >= 0.02;
      if (!complete) counts.incomplete++;
      const at = ms + s * 1000;
      if (counts.lines === 0) counts.from = at;
      counts.to = at;
      counts.lines++;
      if (m.quiet) counts.quietTransfers++;
      buffer += `${m.prefix}${two(s)}${m.suffix} ${1 + Math.floor(bytes / 2_000_000)} ${hosts[a]} ${bytes} ${kinds[kind]}${counts.lines}${exts[kind]} b _ ${kind % 2 === 0 ? 'i' : 'o'} r ${names[a]} http 0 * ${complete ? 'c' : 'i'}\n`;
    }
    if (buffer.length > 1_000_000) await flush();
  }
  if (quietOpen !== undefined) counts.quietIntervals.push({ start: quietOpen, end });
  await flush();
  out.end();
  await once(file, 'close');
  counts.accounts = seen.size;
  counts.fileBytes = file.bytesWritten;
  return counts;
}
