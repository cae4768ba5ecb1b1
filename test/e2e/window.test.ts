import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WindowProposal } from '../../src/window/index.ts';
import { parisVtimezone } from '../util/ics.ts';
import { cliPath, repoRoot } from '../util/run-cli.ts';
import { copyTinyProfile, writeTinyRelease } from '../util/tiny-product.ts';
import { writeXferlog, type XferlogCounts } from '../util/traffic-log.ts';

/**
 * `uplift window` as an operator runs it (issue 14, done-when): on a generated four-week xferlog
 * whose quiet window is known it proposes that window; blackout calendars with a recurring event,
 * an EXDATE and a moved RECURRENCE-ID instance are honoured; an allowed-hours rule in another
 * zone is honoured across a daylight-saving change.
 */
const weekMs = 7 * 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'uplift-window-'));
const log = join(dir, 'xferlog.gz');
let counts: XferlogCounts;

/** The search starts where the log ends: Monday 30 November 2026, 00:00 in Paris. */
const from = '2026-11-30T00:00+01:00';

beforeAll(async () => {
  // Four whole local weeks of November (no daylight-saving change inside the log), quiet on
  // Wednesdays 02:00-05:00 Paris time.
  counts = await writeXferlog(log, {
    weeks: 4,
    start: '2026-11-02T00:00+01:00',
    seed: 14,
    zone: 'Europe/Paris',
    quiet: { day: 3, from: '02:00', to: '05:00' },
    gzip: true,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function uplift(args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, 'window', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Result {
  windows: WindowProposal[];
  traffic: { records: number; sources: string[] };
  search: { funnel: { candidates: number }; blackouts: number; zone: string };
}
function windows(args: string[]): Result {
  const r = uplift([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Result;
}
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000', '');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('uplift window', () => {
  it('finds the known quiet window of a generated four-week xferlog, once a week', () => {
    const got = windows([
      '--log',
      log,
      '--duration',
      '3h',
      '--from',
      from,
      '--zone',
      'Europe/Paris',
    ]);

    // The generator's quiet window of the log's first week, 4, 5 and 6 weeks later.
    const quiet = counts.quietIntervals[0] as { start: number; end: number };
    expect(got.traffic.records).toBe(counts.lines);
    expect(got.windows.map((w) => [iso(w.start), iso(w.end)])).toEqual(
      [4, 5, 6].map((k) => [iso(quiet.start + k * weekMs), iso(quiet.end + k * weekMs)]),
    );
    expect(got.windows[0]?.expectedTransfers).toBeLessThanOrEqual(counts.quietTransfers / 4 + 0.01);
    expect(got.windows[0]?.reasons[0]).toMatch(/^fewest transfers of \d+ candidate starts: /);
  });

  it("with --install, reads the profile's declared logs and takes the plan's window figure", async () => {
    const profile = await copyTinyProfile(join(dir, 'tiny-profile'));
    appendFileSync(
      join(profile, 'profile.yaml'),
      "\ntraffic:\n  logs: ['logs/xferlog*']\n  format: xferlog\n  zone: Europe/Paris\n",
    );
    const install = join(dir, 'tiny');
    await writeTinyRelease(install, '1.0.0', 'ok');
    mkdirSync(join(install, 'logs'));
    await writeXferlog(join(install, 'logs/xferlog.1.gz'), {
      weeks: 4,
      start: '2026-11-02T00:00+01:00',
      seed: 14,
      zone: 'Europe/Paris',
      quiet: { day: 3, from: '02:00', to: '05:00' },
      gzip: true,
    });
    const common = ['--install', install, '--profile', profile, '--to', '2.0.0'];
    const plan = spawnSync(process.execPath, [cliPath, 'plan', ...common, '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(plan.status, plan.stderr).toBe(0);
    const windowSeconds = JSON.parse(plan.stdout).estimate.windowSeconds as number;

    const got = windows([...common, '--from', from]) as Result & {
      search: { durationSeconds: number; durationFrom: string };
    };

    expect(windowSeconds).toBeGreaterThan(0);
    expect(got.search).toMatchObject({ durationSeconds: windowSeconds, durationFrom: 'plan' });
    expect(got.traffic.sources).toEqual([join(install, 'logs/xferlog.1.gz')]);
    expect(got.traffic.records).toBe(counts.lines);
    expect(got.windows).toHaveLength(3);
    for (const w of got.windows) expect(w.end - w.start).toBe(windowSeconds * 1000);

    // The change board's report shows them: uplift plan --windows takes the saved --json.
    const saved = file('windows.json', JSON.stringify(got));
    const short = file(
      'short.json',
      JSON.stringify({ ...got, search: { ...got.search, durationSeconds: windowSeconds - 60 } }),
    );
    const report = spawnSync(
      process.execPath,
      [cliPath, 'plan', ...common, '--format', 'markdown', '--windows', saved],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    const refused = spawnSync(
      process.execPath,
      [cliPath, 'plan', ...common, '--json', '--windows', short],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain(got.windows[0]?.reasons[0] as string);
    expect(report.stdout).not.toContain('This report was made without');
    expect(refused.status).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'UPLIFT_WINDOW_FILE_INVALID',
      location: { file: short, path: 'search.durationSeconds' },
    });
  });

  it('prints the windows in a table with their reasons, and progress on stderr when asked', () => {
    const r = uplift([
      '--log',
      log,
      '--duration',
      '180m',
      '--from',
      from,
      '--zone',
      'Europe/Paris',
      '--allowed',
      'Mon-Fri 00:00-06:00 Europe/Paris',
      '--count',
      '2',
      '--progress',
    ]);

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1 {2}Wed 2 Dec 02:00-05:00 +\S+/m);
    expect(r.stdout).toMatch(/^2 {2}Wed 9 Dec 02:00-05:00 /m);
    expect(r.stdout).toContain('inside the allowed hours "Mon-Fri 00:00-06:00 Europe/Paris"');
    expect(r.stderr).toMatch(/reading .*xferlog\.gz: .* \(100 %\)/);
  });

  it('honours a recurring blackout, its EXDATE and its moved instance', () => {
    // Wednesdays 01:00-06:00 Paris from 2 December: 9 December is taken out (EXDATE), 16 December
    // moves to Thursday 17 December (RECURRENCE-ID); so only 2 December is blocked.
    const calendar = file(
      'freeze.ics',
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//uplift e2e//EN',
        ...parisVtimezone,
        'BEGIN:VEVENT',
        'UID:night-freeze',
        'SUMMARY:Clearing run',
        'DTSTART;TZID=Europe/Paris:20261202T010000',
        'DTEND;TZID=Europe/Paris:20261202T060000',
        'RRULE:FREQ=WEEKLY;BYDAY=WE',
        'EXDATE;TZID=Europe/Paris:20261209T010000',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:night-freeze',
        'RECURRENCE-ID;TZID=Europe/Paris:20261216T010000',
        'SUMMARY:Clearing run (moved)',
        'DTSTART;TZID=Europe/Paris:20261217T010000',
        'DTEND;TZID=Europe/Paris:20261217T060000',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n'),
    );
    const base = ['--log', log, '--duration', '3h', '--from', from, '--zone', 'Europe/Paris'];

    const without = windows(base);
    const got = windows([...base, '--calendar', calendar, '--allowed', 'Mon-Fri Europe/Paris']);

    const blocked = [
      [Date.parse('2026-12-02T00:00Z'), Date.parse('2026-12-02T05:00Z')],
      [Date.parse('2026-12-17T00:00Z'), Date.parse('2026-12-17T05:00Z')],
    ];
    expect(iso(without.windows[0]?.start ?? 0)).toBe('2026-12-02T01:00Z');
    expect(got.search.blackouts).toBe(3);
    expect(got.windows.slice(0, 2).map((w) => iso(w.start))).toEqual([
      '2026-12-09T01:00Z',
      '2026-12-16T01:00Z',
    ]);
    for (const w of got.windows)
      for (const [s, e] of blocked)
        expect(w.end <= (s as number) || w.start >= (e as number)).toBe(true);
    expect(got.windows[2]?.reasons.join('\n')).toContain('avoids blackout "Clearing run');
  });

  it('honours a Paris rule across the October change: the 7-hour night alone fits 6h30m', () => {
    const got = windows([
      '--log',
      log,
      '--duration',
      '6h30m',
      '--from',
      '2026-10-19T00:00+02:00',
      '--weeks',
      '2',
      '--allowed',
      'Sat-Sun 00:00-06:00 Europe/Paris',
    ]);
    const nights = windows([
      '--log',
      log,
      '--duration',
      '6h',
      '--from',
      '2026-10-19T00:00+02:00',
      '--weeks',
      '3',
      '--allowed',
      'Sat 00:00-06:00 Europe/Paris',
    ]);

    expect(got.search.zone).toBe('Europe/Paris');
    // The night of 24-25 October runs 00:00 CEST to 06:00 CET: 22:00-05:00 UTC, 7 hours.
    expect(got.windows).toHaveLength(1);
    const [w] = got.windows as [WindowProposal];
    expect(w.start).toBeGreaterThanOrEqual(Date.parse('2026-10-24T22:00Z'));
    expect(w.end).toBeLessThanOrEqual(Date.parse('2026-10-25T05:00Z'));
    expect(w.end - w.start).toBe(6.5 * 3_600_000);
    expect(w.reasons.join('\n')).toMatch(
      /crosses the daylight-saving change in Europe\/Paris \(\+02:00 to \+01:00\): 00:[0-3][05]-05:[0-5][05] local time is 6 h 30 min/,
    );
    // Saturday 00:00 Paris is 22:00 UTC in summer time, 23:00 UTC after the change.
    expect(nights.windows.map((w) => iso(w.start)).sort()).toEqual([
      '2026-10-23T22:00Z',
      '2026-10-30T23:00Z',
      '2026-11-06T23:00Z',
    ]);
  });

  it("honours a New York rule across America/New_York's November change", () => {
    const got = windows([
      '--log',
      log,
      '--duration',
      '4h30m',
      '--from',
      '2026-10-26T00:00Z',
      '--weeks',
      '2',
      '--allowed',
      'Sun 00:00-04:00 America/New_York',
    ]);

    expect(got.windows.map((w) => [iso(w.start), iso(w.end), w.zone])).toEqual([
      ['2026-11-01T04:00Z', '2026-11-01T08:30Z', 'America/New_York'],
    ]);
  });

  describe('refuses and says why', () => {
    it('when no window fits: exit 3 and the constraint that removed everything', () => {
      const r = uplift([
        '--log',
        log,
        '--duration',
        '7h30m',
        '--from',
        from,
        '--allowed',
        'Sat-Sun 00:00-06:00 Europe/Paris',
      ]);

      expect(r.code).toBe(3);
      expect(r.stderr).toContain('UPLIFT_WINDOW_NONE');
      expect(r.stderr.replace(/\s+/g, ' ')).toMatch(
        /the longest stretch of allowed time outside blackouts .* is 6 h, shorter than the 7 h 30 min window/,
      );
    });

    it('a calendar that is not iCalendar: exit 2, the file and the line', () => {
      const bad = file(
        'bad.ics',
        'BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nnot a property\nEND:VEVENT\nEND:VCALENDAR\n',
      );

      const r = uplift(['--log', log, '--duration', '1h', '--calendar', bad, '--json']);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'UPLIFT_CALENDAR_INVALID',
        location: { file: bad, line: 4 },
      });
    });

    it.each([
      { args: ['--log', log], code: 'UPLIFT_USAGE', hint: /--duration/ },
      { args: ['--duration', '1h'], code: 'UPLIFT_USAGE', hint: /--install|--log/ },
      {
        args: ['--log', log, '--duration', '1h', '--allowed', 'Sat 00:00-06:00 Mars/Olympus'],
        code: 'UPLIFT_USAGE',
        hint: /Sat-Sun 00:00-06:00 Europe\/Paris/,
      },
      { args: ['--log', log, '--duration', 'an hour'], code: 'UPLIFT_USAGE', hint: /1h30m/ },
      {
        args: ['--log', log, '--duration', '1h', '--calendar', join(dir, 'missing.ics')],
        code: 'UPLIFT_FILE_NOT_FOUND',
        hint: /calendar/,
      },
      {
        args: ['--log', dir, '--duration', '1h'],
        code: 'UPLIFT_FILE_UNREADABLE',
        hint: /log files/,
      },
      {
        args: ['--log', log, '--duration', '1h', '--calendar', file('empty.ics', '')],
        code: 'UPLIFT_CALENDAR_INVALID',
        hint: /iCalendar/,
      },
    ])('$code for $args', ({ args, code, hint }) => {
      const r = uplift([...args, '--json']);

      expect(r.code).toBe(2);
      const error = JSON.parse(r.stdout).error;
      expect(error.code).toBe(code);
      expect(error.hint).toMatch(hint);
    });
  });
});
