import { stat } from 'node:fs/promises';
import { DateTime } from 'luxon';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import { getPlan } from '../../plan/index.ts';
import {
  readTrafficProfile,
  type TrafficProfile,
  type TrafficSource,
  trafficSourcesOf,
} from '../../traffic/index.ts';
import { currentTime, formatBytes, formatDuration, readRegularFile } from '../../util/index.ts';
import {
  type AllowedRule,
  type BlackoutInterval,
  blackoutsFromIcs,
  findWindows,
  formatSpan,
  parseAllowed,
  parseDuration,
  type WindowProposal,
  type WindowSearch,
} from '../../window/index.ts';
import { profileForInstall } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';

export interface WindowCommandOptions {
  install?: string;
  profile?: string;
  to: string;
  log?: string[];
  duration?: string;
  calendar: string[];
  allowed: string[];
  weeks: string;
  count: string;
  from?: string;
  zone?: string;
  /** true: always show progress; false: never; undefined: when standard error is a terminal. */
  progress?: boolean;
  json?: boolean;
}

/** What `--json` prints: the proposals, what the logs said, and how the search went. */
export interface WindowResult {
  windows: WindowProposal[];
  traffic: TrafficSummary;
  /** The traffic profile itself, for the report's heat map (`uplift plan --windows FILE`). */
  profile: TrafficProfile;
  search: {
    from: string;
    to: string;
    weeks: number;
    count: number;
    durationSeconds: number;
    /** Where the length came from: the plan's window figure or --duration. */
    durationFrom: 'plan' | '--duration';
    zone: string;
    allowed: string[];
    calendars: string[];
    blackouts: number;
    funnel: WindowSearch['funnel'];
  };
  warnings: string[];
}

export interface TrafficSummary {
  records: number;
  from?: string;
  to?: string;
  sources: string[];
  /** The fewest and the most weeks of log any slot of the week has. */
  weeksCovered: { min: number; max: number };
  skipped: TrafficProfile['skipped'];
}

const weekMs = 7 * 86_400_000;

/** `uplift window`: when is the installation quiet enough, inside the rules, for this long? */
export async function handler(
  opts: WindowCommandOptions,
  io: { stderr: (s: string) => void; stderrIsTty: boolean },
): Promise<CommandResult> {
  const logs = opts.log ?? [];
  if ((opts.install === undefined) === (logs.length === 0))
    throw usage(
      opts.install === undefined
        ? 'no transfer logs to read: neither --install nor --log was given'
        : '--install and --log were both given',
      'Give the installation with --install (its profile says where its logs are), or the logs with --log and the window length with --duration.',
    );
  if (opts.install === undefined && opts.duration === undefined)
    throw usage(
      'with --log, uplift has no plan to take the window length from',
      'Give its length with --duration, e.g. --duration 1h30m.',
    );
  const weeks = wholeNumber(opts.weeks, '--weeks', 52);
  const count = wholeNumber(opts.count, '--count', 50);
  const rules = opts.allowed.map(parseAllowed);
  const from = startOf(opts.from);
  const to = from + weeks * weekMs;
  const zone = rules[0]?.zone ?? opts.zone ?? 'UTC';
  const warnings: string[] = [];
  const blackouts: BlackoutInterval[] = [];
  for (const file of opts.calendar)
    blackouts.push(
      ...blackoutsFromIcs(await readText(file, '--calendar'), file, from, to, {
        floatingZone: zone,
        onWarning: (w) => warnings.push(w),
      }),
    );
  let durationSeconds = opts.duration === undefined ? undefined : parseDuration(opts.duration);
  for (const file of logs)
    if ((await stat(file).catch(() => undefined))?.isDirectory())
      throw new UpliftError('UPLIFT_FILE_UNREADABLE', `--log ${file} is a folder, not a log`, {
        location: { file },
        hint: 'Give the log files themselves, e.g. --log /var/log/xferlog.1.gz /var/log/xferlog.',
      });

  let sources: (string | TrafficSource)[] = logs;
  if (opts.install !== undefined) {
    const chosen = await profileForInstall(opts.install, opts.profile);
    warnings.push(...chosen.warnings);
    if (durationSeconds === undefined) {
      const { plan } = await getPlan({
        install: opts.install,
        profile: chosen.profile.dir,
        to: opts.to,
        warnings,
      });
      durationSeconds = plan.estimate.windowSeconds;
      if (!(durationSeconds > 0))
        throw usage(
          `the plan from ${plan.from} to ${plan.to} books no downtime, so it gives no window length`,
          'Give the length with --duration, e.g. --duration 1h30m.',
        );
    }
    sources = await trafficSourcesOf(chosen.profile, opts.install);
  }
  if (durationSeconds === undefined) throw new Error('unreachable: the duration was checked above');

  const show = opts.progress === true || (opts.progress === undefined && io.stderrIsTty);
  const traffic = await readTrafficProfile(sources, {
    ...(opts.zone === undefined ? {} : { zone: opts.zone }),
    ...(show ? { onProgress: progressPrinter(io) } : {}),
  });
  if (traffic.records === 0)
    warnings.push(
      `the logs (${traffic.sources.join(', ')}) hold no transfers: every window scores 0, so they rank by time only`,
    );
  if (traffic.skipped.count > 0) {
    const first = traffic.skipped.examples[0];
    warnings.push(
      `${traffic.skipped.count} log lines could not be read and were left out${first ? ` (first: ${first.file}:${first.line}: ${first.reason})` : ''}`,
    );
  }

  const search = findWindows(
    traffic,
    { durationSeconds, from, weeks, count },
    { allowed: rules, blackouts, zone },
  );
  const length = formatDuration(durationSeconds);
  if (search.windows.length === 0)
    throw new UpliftError(
      'UPLIFT_WINDOW_NONE',
      `no ${length} window in the ${weeks} weeks from ${formatInstant(from, zone)}: ${search.why}`,
      {
        hint: 'Widen --allowed, search more --weeks, check the --calendar blackouts, or shorten --duration.',
        result: { funnel: search.funnel },
      },
    );

  const result: WindowResult = {
    windows: search.windows,
    traffic: summaryOf(traffic),
    profile: traffic,
    search: {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      weeks,
      count,
      durationSeconds,
      durationFrom: opts.duration === undefined ? 'plan' : '--duration',
      zone,
      allowed: rules.map((r) => r.text),
      calendars: opts.calendar,
      blackouts: blackouts.length,
      funnel: search.funnel,
    },
    warnings,
  };
  return {
    data: result,
    text: renderText(result, rules),
    exitCode: ExitCode.ok,
    warnings,
  };
}

function usage(message: string, hint: string): UpliftError {
  return new UpliftError('UPLIFT_USAGE', message, { hint });
}

function wholeNumber(text: string, option: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > max)
    throw usage(
      `${option} ${text} is not a whole number from 1 to ${max}`,
      `Give e.g. ${option} 4.`,
    );
  return n;
}

/**
 * `--from`: an ISO date or date-time (UTC unless it has an offset) from 1970 to 2199; default now.
 * Beyond those years no log or calendar has anything to say, and luxon's six-digit years
 * (`-001000-01-01`) are typos.
 */
function startOf(text: string | undefined): number {
  if (text === undefined) return currentTime().getTime();
  const t = DateTime.fromISO(text.trim(), { zone: 'UTC' });
  if (!t.isValid || !/^\d{4}-/.test(text.trim()))
    throw usage(
      `--from ${text} is not an ISO date or date-time`,
      'Write it like 2026-11-02 or 2026-11-02T00:00+01:00.',
    );
  if (t.year < 1970 || t.year > 2199)
    throw usage(
      `--from ${text} is in the year ${t.year}, outside 1970 to 2199`,
      'Give the date the search starts on, like 2026-11-02, or leave --from out to search from now.',
    );
  return t.toMillis();
}

async function readText(file: string, option: string): Promise<string> {
  try {
    return await readRegularFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${option} ${file} does not exist`, {
        location: { file },
        hint: 'Check the path of the calendar file.',
      });
    if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOTREG')
      throw new UpliftError(
        'UPLIFT_FILE_UNREADABLE',
        `${option} ${file} cannot be read (${code})`,
        {
          location: { file },
          hint: 'Give an iCalendar file uplift can read.',
          cause: error,
        },
      );
    throw error;
  }
}

/** Progress of the log reading on standard error: one updated line on a terminal, else every 10 %. */
function progressPrinter(io: { stderr: (s: string) => void; stderrIsTty: boolean }) {
  let lastFile = '';
  let lastTenth = -1;
  let lastAt = 0;
  return (p: { file: string; bytesRead: number; totalBytes: number }) => {
    const share = p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 1;
    const line = `reading ${p.file}: ${formatBytes(p.bytesRead)} of ${formatBytes(p.totalBytes)} (${Math.floor(share * 100)} %)`;
    if (io.stderrIsTty) {
      const now = Date.now();
      if (now - lastAt < 100 && share < 1) return;
      lastAt = now;
      io.stderr(`\r\u001b[K${line}${share >= 1 ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (p.file === lastFile && tenth === lastTenth) return;
    lastFile = p.file;
    lastTenth = tenth;
    io.stderr(`${line}\n`);
  };
}

function summaryOf(t: TrafficProfile): TrafficSummary {
  return {
    records: t.records,
    ...(t.from === undefined ? {} : { from: new Date(t.from).toISOString() }),
    ...(t.to === undefined ? {} : { to: new Date(t.to).toISOString() }),
    sources: t.sources,
    weeksCovered: { min: Math.min(...t.weeksCovered), max: Math.max(...t.weeksCovered) },
    skipped: t.skipped,
  };
}

const formatInstant = (ms: number, zone: string) =>
  `${DateTime.fromMillis(ms, { zone }).toFormat('ccc d LLL yyyy HH:mm')} (${zone})`;

const show = (x: number) => (x >= 10 ? String(Math.round(x)) : String(Math.round(x * 100) / 100));

function renderText(r: WindowResult, rules: AllowedRule[]): string {
  const s = r.search;
  const t = r.traffic;
  const lines: string[] = [];
  const length = formatDuration(s.durationSeconds);
  lines.push(
    `Windows of ${length} (${s.durationFrom === 'plan' ? "the plan's downtime + validation + rollback" : '--duration'}) in the ${s.weeks} weeks from ${formatInstant(Date.parse(s.from), s.zone)}`,
  );
  lines.push(
    `Traffic: ${t.records} transfers${t.from && t.to ? ` from ${t.from.slice(0, 10)} to ${t.to.slice(0, 10)}` : ''} in ${t.sources.length} log${t.sources.length === 1 ? '' : 's'}, ${t.weeksCovered.min === t.weeksCovered.max ? `${t.weeksCovered.max}` : `${t.weeksCovered.min}-${t.weeksCovered.max}`} weeks per slot${t.skipped.count > 0 ? `, ${t.skipped.count} lines skipped` : ''}`,
  );
  lines.push(
    `Allowed: ${rules.length > 0 ? rules.map((x) => `"${x.text}"`).join(', ') : 'any time'}; blackouts: ${s.blackouts} from ${s.calendars.length} calendar${s.calendars.length === 1 ? '' : 's'}; ${s.funnel.candidates} candidate starts`,
  );
  lines.push('');
  const rows = r.windows.map((w) => [
    String(w.rank),
    formatSpan(w, w.zone),
    show(w.expectedTransfers),
    formatBytes(w.expectedBytes),
    show(w.expectedAccounts),
  ]);
  const head = ['#', `window (${s.zone})`, 'transfers', 'bytes', 'accounts'];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  lines.push(line(head));
  for (const [k, w] of r.windows.entries()) {
    lines.push(line(rows[k] as string[]));
    for (const reason of w.reasons) lines.push(`    - ${reason}`);
  }
  return `${lines.join('\n')}\n`;
}
