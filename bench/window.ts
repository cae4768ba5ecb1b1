import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parisVtimezone } from '../test/util/ics.ts';
import { writeXferlog } from '../test/util/traffic-log.ts';
import { median, percentile, round } from './stats.ts';

// The tsc build, as planner.ts does: what ships, not sources through tsx.
const distWindow = '../dist/window/index.js';
const distTraffic = '../dist/traffic/index.js';
const { blackoutsFromIcs, findWindows, parseAllowed } = (await import(
  distWindow
)) as typeof import('../src/window/index.ts');
const { readTrafficProfile } = (await import(
  distTraffic
)) as typeof import('../src/traffic/index.ts');

/**
 * Median, p95 and min of a phase, milliseconds of wall time; and the median of its CPU time
 * (process.cpuUsage: user + system), which a busy shared machine does not inflate as it does wall
 * time (bench/catalog-load.ts).
 */
export interface PhaseFigures {
  medianMs: number;
  p95Ms: number;
  minMs: number;
  cpuMedianMs: number;
  cpuP95Ms: number;
}

export interface WindowFigures {
  weeks: number;
  durationSeconds: number;
  rules: string[];
  profile: { transfers: number; logMB: number };
  calendar: { events: number; recurring: number; blackouts: number; icsKB: number };
  candidates: number;
  windows: number;
  rounds: number;
  /** Load average (1 min) at the end: how busy the machine was. */
  loadAverage: number;
  /** Expanding the calendar over the 12 weeks (parse, RRULE, EXDATE, RECURRENCE-ID). */
  calendarPhase: PhaseFigures;
  /** Allowed intervals, blackouts subtracted, every 15-minute start scored, the best picked. */
  search: PhaseFigures;
  /** Both, as `uplift window` runs them after reading the log. */
  total: PhaseFigures;
  /** The same scoring of every start over 12 weeks (no rules, no calendar) by awk, one process. */
  awk: { medianMs: number; bestStartSlot: number } | null;
  /** The whole `uplift window` process on the log (reading it included), median of 5. */
  cliMs: number;
}

const weekMs = 7 * 86_400_000;

/**
 * A realistic blackout calendar for 12 weeks in Europe/Paris: a weekly weekend payroll freeze
 * with two EXDATEs and one moved instance, a nightly batch, a month-end close, and 40 one-off
 * change freezes.
 */
function benchCalendar(from: number): { text: string; events: number; recurring: number } {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//uplift bench//EN',
    ...parisVtimezone,
    'BEGIN:VEVENT',
    'UID:payroll',
    'SUMMARY:Payroll freeze',
    'DTSTART;TZID=Europe/Paris:20250103T180000',
    'DTEND;TZID=Europe/Paris:20250104T060000',
    'RRULE:FREQ=WEEKLY;BYDAY=FR',
    'EXDATE;TZID=Europe/Paris:20261113T180000,20261127T180000',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:payroll',
    'RECURRENCE-ID;TZID=Europe/Paris:20261204T180000',
    'SUMMARY:Payroll freeze',
    'DTSTART;TZID=Europe/Paris:20261205T000000',
    'DTEND;TZID=Europe/Paris:20261205T120000',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:batch',
    'SUMMARY:Nightly batch',
    'DTSTART;TZID=Europe/Paris:20250101T010000',
    'DURATION:PT45M',
    'RRULE:FREQ=DAILY',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:month-end',
    'SUMMARY:Month-end close',
    'DTSTART;VALUE=DATE:20250131',
    'DURATION:P2D',
    'RRULE:FREQ=MONTHLY;BYMONTHDAY=-1',
    'END:VEVENT',
  ];
  for (let k = 0; k < 40; k++) {
    const start = from + ((k * 7919) % 84) * 86_400_000 + ((k * 37) % 24) * 3_600_000;
    lines.push(
      'BEGIN:VEVENT',
      `UID:change-${k}`,
      `SUMMARY:Change freeze ${k}`,
      `DTSTART:${stamp(start)}`,
      `DTEND:${stamp(start + (2 + (k % 5)) * 3_600_000)}`,
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR', '');
  return { text: lines.join('\r\n'), events: 44, recurring: 3 };
}

function phase(samples: number[], cpu: number[]): PhaseFigures {
  return {
    medianMs: round(median(samples)),
    p95Ms: round(percentile(samples, 95)),
    minMs: round(Math.min(...samples)),
    cpuMedianMs: round(median(cpu)),
    cpuP95Ms: round(percentile(cpu, 95)),
  };
}

/** CPU milliseconds since `start` (a process.cpuUsage() value). */
const cpuSince = (start: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};

/** awk scoring every 15-minute start over 12 weeks from the 672 per-week slot averages. */
const awkScript = `
{ v[NR - 1] = $1 }
END {
  best = -1
  for (s = 0; s < 672 * w; s++) {
    sum = 0
    for (j = 0; j < k; j++) sum += v[(s + j) % 672]
    if (best < 0 || sum < best) { best = sum; at = s % 672 }
  }
  print at
}`;

export async function benchWindow(opts: {
  root: string;
  log: (s: string) => void;
  rounds?: number;
}): Promise<WindowFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bench-window-'));
  try {
    const logFile = join(dir, 'xferlog');
    opts.log('window: writing a four-week xferlog (200 transfers an hour)');
    const counts = await writeXferlog(logFile, {
      weeks: 4,
      start: '2026-10-05T00:00+02:00',
      seed: 12,
      zone: 'Europe/Paris',
      quiet: { day: 3, from: '02:00', to: '05:00' },
      perHour: 200,
    });
    const profile = await readTrafficProfile([logFile], { zone: 'Europe/Paris' });
    const from = Date.parse('2026-11-02T00:00+01:00');
    const weeks = 12;
    const to = from + weeks * weekMs;
    const calendar = benchCalendar(from);
    const rules = ['Mon-Fri 22:00-05:00 Europe/Paris', 'Sat-Sun 00:00-08:00 Europe/Paris'];
    const durationSeconds = 2.5 * 3600;

    const once = () => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const blackouts = blackoutsFromIcs(calendar.text, 'bench.ics', from, to);
      const t1 = performance.now();
      const calendarCpu = cpuSince(c0);
      const c1 = process.cpuUsage();
      const search = findWindows(
        profile,
        { durationSeconds, from, weeks, count: 5 },
        { allowed: rules.map(parseAllowed), blackouts },
      );
      const t2 = performance.now();
      const searchCpu = cpuSince(c1);
      return { calendarMs: t1 - t0, searchMs: t2 - t1, calendarCpu, searchCpu, search, blackouts };
    };
    for (let i = 0; i < 5; i++) once();
    const rounds = opts.rounds ?? 40;
    const calendarMs: number[] = [];
    const searchMs: number[] = [];
    const calendarCpu: number[] = [];
    const searchCpu: number[] = [];
    let last = once();
    for (let i = 0; i < rounds; i++) {
      last = once();
      calendarMs.push(last.calendarMs);
      searchMs.push(last.searchMs);
      calendarCpu.push(last.calendarCpu);
      searchCpu.push(last.searchCpu);
    }

    let awk: WindowFigures['awk'] = null;
    const slots = join(dir, 'slots.txt');
    writeFileSync(
      slots,
      profile.slots
        .map((s, i) => String(s.transfers / Math.max(1, profile.weeksCovered[i] ?? 1)))
        .join('\n'),
    );
    const awkRuns: number[] = [];
    let bestStartSlot = -1;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = spawnSync(
        'awk',
        ['-v', `w=${weeks}`, '-v', `k=${durationSeconds / 900}`, awkScript, slots],
        { encoding: 'utf8' },
      );
      awkRuns.push(performance.now() - t0);
      if (r.status !== 0) {
        awkRuns.length = 0;
        break;
      }
      bestStartSlot = Number(r.stdout.trim());
    }
    if (awkRuns.length > 0) awk = { medianMs: round(median(awkRuns)), bestStartSlot };

    const cliRuns: number[] = [];
    const icsFile = join(dir, 'bench.ics');
    writeFileSync(icsFile, calendar.text);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [
          join(opts.root, 'dist/cli/main.js'),
          'window',
          '--log',
          logFile,
          '--zone',
          'Europe/Paris',
          '--duration',
          '2h30m',
          '--weeks',
          String(weeks),
          '--from',
          new Date(from).toISOString(),
          '--calendar',
          icsFile,
          ...rules.flatMap((r) => ['--allowed', r]),
          '--json',
        ],
        { encoding: 'utf8' },
      );
      cliRuns.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`uplift window failed: ${r.stderr}`);
    }

    return {
      weeks,
      durationSeconds,
      rules,
      profile: { transfers: counts.lines, logMB: round(counts.bytes / 1_000_000) },
      calendar: {
        events: calendar.events,
        recurring: calendar.recurring,
        blackouts: last.blackouts.length,
        icsKB: round(calendar.text.length / 1000),
      },
      candidates: last.search.funnel.candidates,
      windows: last.search.windows.length,
      rounds,
      loadAverage: round(loadavg()[0] ?? 0),
      calendarPhase: phase(calendarMs, calendarCpu),
      search: phase(searchMs, searchCpu),
      total: phase(
        calendarMs.map((c, i) => c + (searchMs[i] as number)),
        calendarCpu.map((c, i) => c + (searchCpu[i] as number)),
      ),
      awk,
      cliMs: round(median(cliRuns)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatWindow(f: WindowFigures, goal: { totalP95Ms: number }): string {
  const row = (name: string, p: PhaseFigures) =>
    `  ${name.padEnd(30)} wall median ${p.medianMs} ms, p95 ${p.p95Ms} ms (min ${p.minMs}); CPU median ${p.cpuMedianMs} ms, p95 ${p.cpuP95Ms} ms`;
  return [
    `\nWindow search — ${f.weeks} weeks, ${f.durationSeconds / 3600} h windows, rules ${f.rules.map((r) => `"${r}"`).join(' + ')}`,
    `  profile: ${f.profile.transfers} transfers (${f.profile.logMB} MB xferlog, 4 weeks); calendar: ${f.calendar.events} events (${f.calendar.recurring} recurring), ${f.calendar.blackouts} blackouts in the span; ${f.candidates} candidate starts, ${f.windows} windows; ${f.rounds} rounds`,
    row('calendar expansion', f.calendarPhase),
    row('search (allowed, score, rank)', f.search),
    row('both', f.total),
    `    goal p95 < ${goal.totalP95Ms} ms: wall ${f.total.p95Ms < goal.totalP95Ms ? 'met' : 'MISSED'}, CPU ${f.total.cpuP95Ms < goal.totalP95Ms ? 'met' : 'MISSED'} (load average ${f.loadAverage})`,
    f.awk
      ? `  awk, every start scored (no rules, no calendar): ${f.awk.medianMs} ms (a process, best slot ${f.awk.bestStartSlot})`
      : '  awk: not available, skipped',
    `  whole uplift window process (reads the log too): median ${f.cliMs} ms of 5`,
  ].join('\n');
}
