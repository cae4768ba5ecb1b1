import { describe, expect, it } from 'vitest';
import type { TrafficProfile } from '../traffic/types.ts';
import { parseAllowed } from './allowed.ts';
import { findWindows } from './find-windows.ts';
import type { BlackoutInterval } from './types.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000', '');
const slotOf = (day: number, hh: number, mm = 0) => day * 96 + hh * 4 + mm / 15;

/**
 * A profile of `weeks` weeks in which every slot has `busy(slot)` transfers a week (default 10),
 * each of 1 MB by one account, unless `fields` says otherwise.
 */
function profileOf(
  busy: (slot: number) => number,
  opts: {
    weeks?: number;
    bytes?: (slot: number) => number;
    accounts?: (slot: number) => number;
    covered?: (slot: number) => boolean;
  } = {},
): TrafficProfile {
  const weeks = opts.weeks ?? 4;
  const slots = Array.from({ length: 672 }, (_, i) => ({
    transfers: busy(i) * weeks,
    bytes: (opts.bytes?.(i) ?? busy(i) * 1_000_000) * weeks,
    accounts: (opts.accounts?.(i) ?? Math.min(1, busy(i))) * weeks,
  }));
  return {
    slots,
    weeksCovered: slots.map((_, i) => (opts.covered?.(i) === false ? 0 : weeks)),
    records: slots.reduce((n, s) => n + s.transfers, 0),
    skipped: { count: 0, examples: [] },
    sources: ['synthetic'],
  };
}

/** Tuesday 03:00-04:00 UTC is silent, everything else has 10 transfers a slot. */
const quietTuesday = profileOf((i) => (i >= slotOf(1, 3) && i < slotOf(1, 4) ? 0 : 10));
const from = at('2026-11-02T00:00Z'); // a Monday

describe('findWindows', () => {
  it('finds the known quiet hour, once per day, best first', () => {
    const got = findWindows(quietTuesday, { durationSeconds: 3600, from, weeks: 4, count: 3 });

    expect(got.windows.map((w) => [iso(w.start), iso(w.end), w.expectedTransfers, w.rank])).toEqual(
      [
        ['2026-11-03T03:00Z', '2026-11-03T04:00Z', 0, 1],
        ['2026-11-10T03:00Z', '2026-11-10T04:00Z', 0, 2],
        ['2026-11-17T03:00Z', '2026-11-17T04:00Z', 0, 3],
      ],
    );
    expect(got.windows[0]?.reasons[0]).toBe(
      'fewest transfers of 2685 candidate starts: no transfers expected, against 40 in the median candidate; 0 B and 0 account-slots',
    );
    expect(got.windows[0]?.reasons[1]).toContain(
      'ties with rank 2 on transfers, bytes and accounts; ahead because it is earlier',
    );
    expect(got.funnel).toMatchObject({
      spanSeconds: 28 * 86400,
      allowedSeconds: 28 * 86400,
      candidates: 2685,
    });
  });

  it('scores partial slots pro rata and compares with the median candidate', () => {
    // 22.5 minutes: one busy slot and half of the next make 15; from 03:45 on Tuesday, 0 + 5.
    const got = findWindows(quietTuesday, { durationSeconds: 1350, from, weeks: 1, count: 2 });
    const edge = findWindows(
      quietTuesday,
      { durationSeconds: 1350, from, weeks: 1, count: 1 },
      { allowed: [parseAllowed('Tue 03:45-05:00')] },
    );

    expect(got.windows.map((w) => [iso(w.start), w.expectedTransfers])).toEqual([
      ['2026-11-03T03:00Z', 0],
      ['2026-11-02T00:00Z', 15],
    ]);
    expect(got.windows[1]?.reasons[0]).toBe(
      '15 expected (the median candidate: 15); 14.3 MiB and 1.5 account-slots',
    );
    expect(edge.windows.map((w) => [iso(w.start), w.expectedTransfers])).toEqual([
      ['2026-11-03T03:45Z', 5],
    ]);
    expect(edge.windows[0]?.reasons[0]).toMatch(
      /^fewest transfers of 4 candidate starts: 5 expected, 3× fewer than the median candidate \(15\)/,
    );
  });

  it('takes the next quiet hour when a blackout covers the first, and says which it avoided', () => {
    const blackouts: BlackoutInterval[] = [
      {
        start: at('2026-11-02T18:00Z'),
        end: at('2026-11-03T06:00Z'),
        summary: 'Payroll freeze',
        source: 'freeze.ics',
      },
    ];

    const got = findWindows(
      quietTuesday,
      { durationSeconds: 3600, from, weeks: 2, count: 1 },
      { blackouts },
    );

    expect(iso(got.windows[0]?.start ?? 0)).toBe('2026-11-10T03:00Z');
    expect(got.funnel.freeSeconds).toBe(14 * 86400 - 12 * 3600);
  });

  it('names a blackout next to the window among its reasons', () => {
    const blackouts: BlackoutInterval[] = [
      {
        start: at('2026-11-03T04:00Z'),
        end: at('2026-11-03T08:00Z'),
        summary: 'Backup',
        source: 'b.ics',
      },
    ];

    const got = findWindows(
      quietTuesday,
      { durationSeconds: 3600, from, weeks: 1, count: 1 },
      { blackouts, zone: 'Europe/Paris' },
    );

    expect(got.windows[0]?.reasons).toContain('avoids blackout "Backup" (Tue 3 Nov 05:00-09:00)');
    expect(got.windows[0]?.zone).toBe('Europe/Paris');
  });

  it('keeps to the allowed hours, breaks ties by bytes, then accounts, then the earliest', () => {
    // Saturday and Sunday 01:00-02:00 have 1 transfer each; Saturday's moves more bytes.
    const profile = profileOf(
      (i) => (i === slotOf(5, 1) || i === slotOf(6, 1) || i === slotOf(6, 2) ? 1 : 10),
      { bytes: (i) => (i === slotOf(5, 1) ? 5e6 : i === slotOf(6, 1) ? 2e6 : 1e6) },
    );

    const got = findWindows(
      profile,
      { durationSeconds: 900, from, weeks: 1, count: 3 },
      { allowed: [parseAllowed('Sat-Sun 00:00-06:00')] },
    );

    expect(got.windows.map((w) => [iso(w.start), w.expectedTransfers, w.expectedBytes])).toEqual([
      ['2026-11-08T02:00Z', 1, 1_000_000],
      ['2026-11-07T01:00Z', 1, 5_000_000],
    ]);
    expect(got.windows[0]?.reasons).toContain('inside the allowed hours "Sat-Sun 00:00-06:00"');
    expect(got.funnel.allowedSeconds).toBe(12 * 3600);
  });

  it('ranks a window the log does not cover after every covered one, and says so', () => {
    const profile = profileOf((i) => (i < slotOf(0, 6) ? 0 : 5), {
      covered: (i) => i >= slotOf(0, 6),
    });

    const got = findWindows(profile, { durationSeconds: 3600, from, weeks: 1, count: 1 });

    expect(got.windows[0]?.expectedTransfers).toBe(20);
    const blind = findWindows(
      profile,
      { durationSeconds: 3600, from, weeks: 1, count: 1 },
      { allowed: [parseAllowed('Mon 00:00-03:00')] },
    );
    expect(blind.windows[0]?.reasons).toContain(
      'no week of the log covers 100 % of this window: its traffic there is unknown',
    );
  });

  it('honours a Paris rule across the autumn change: only the 7-hour night fits 6.5 hours', () => {
    const flat = profileOf(() => 3);

    const got = findWindows(
      flat,
      { durationSeconds: 6.5 * 3600, from: at('2026-10-19T00:00Z'), weeks: 3, count: 3 },
      { allowed: [parseAllowed('Sat-Sun 00:00-06:00 Europe/Paris')] },
    );

    expect(got.windows.map((w) => [iso(w.start), iso(w.end)])).toEqual([
      ['2026-10-24T22:00Z', '2026-10-25T04:30Z'],
    ]);
    expect(got.funnel.candidates).toBe(3);
    expect(got.windows[0]?.reasons).toContain(
      'crosses the daylight-saving change in Europe/Paris (+02:00 to +01:00): 00:00-05:30 local time is 6 h 30 min',
    );
  });

  describe('says which constraint removed everything', () => {
    const request = { durationSeconds: 3600, from, weeks: 1, count: 3 };

    it.each([
      {
        name: 'allowed hours outside the span',
        constraints: { allowed: [parseAllowed('Sat 01:00-02:00')] },
        req: { ...request, from: at('2026-11-02T00:00Z'), weeks: 0.5 },
        why: /^the allowed hours \("Sat 01:00-02:00"\) give no time between Mon 2 Nov 00:00-Thu 5 Nov 12:00 \(UTC\)$/,
      },
      {
        name: 'blackouts over every allowed hour',
        constraints: {
          allowed: [parseAllowed('Sat 01:00-03:00')],
          blackouts: [
            {
              start: at('2026-11-07T00:00Z'),
              end: at('2026-11-07T04:00Z'),
              summary: 'Freeze',
              source: 'f.ics',
            },
          ],
        },
        req: request,
        why: /^blackouts \("Freeze"\) cover all 2 h of allowed time/,
      },
      {
        name: 'a window longer than any free stretch',
        constraints: { allowed: [parseAllowed('Sat 01:00-03:00')] },
        req: { ...request, durationSeconds: 3 * 3600 },
        why: /the longest stretch of allowed time outside blackouts .* is 2 h, shorter than the 3 h window$/,
      },
      {
        name: 'no 15-minute start that fits',
        constraints: { allowed: [parseAllowed('Sat 01:05-02:10')] },
        req: request,
        why: /^no 1 h window starting on a 15-minute boundary fits/,
      },
    ])('$name', ({ constraints, req, why }) => {
      const got = findWindows(quietTuesday, req, constraints);

      expect(got.windows).toEqual([]);
      expect(got.why).toMatch(why);
    });
  });
});
