import { describe, expect, it } from 'vitest';
import { allowedIntervals, parseAllowed } from './allowed.ts';

const at = (iso: string) => Date.parse(iso);
const hours = (i: { start: number; end: number }) => (i.end - i.start) / 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000', '');

describe('parseAllowed', () => {
  it.each`
    text                                      | days               | startMinute | endMinute | zone
    ${'Sat-Sun 00:00-06:00 Europe/Paris'}     | ${[6, 7]}          | ${0}        | ${360}    | ${'Europe/Paris'}
    ${'Mon,Wed 22:00-04:00'}                  | ${[1, 3]}          | ${1320}     | ${240}    | ${'UTC'}
    ${'mon-fri 20:00-23:30 America/New_York'} | ${[1, 2, 3, 4, 5]} | ${1200}     | ${1410}   | ${'America/New_York'}
    ${'Fri-Mon'}                              | ${[1, 5, 6, 7]}    | ${0}        | ${1440}   | ${'UTC'}
    ${'Sunday 18:00-24:00 Asia/Kolkata'}      | ${[7]}             | ${1080}     | ${1440}   | ${'Asia/Kolkata'}
    ${'Tue,Thu-Fri 9:30-10:00'}               | ${[2, 4, 5]}       | ${570}      | ${600}    | ${'UTC'}
  `('reads "$text"', ({ text, days, startMinute, endMinute, zone }) => {
    expect(parseAllowed(text)).toEqual({ text, days, startMinute, endMinute, zone });
  });

  it.each([
    '',
    'Funday 00:00-06:00',
    'Sat 25:00-06:00',
    'Sat 00:00-06:60',
    'Sat 06:00-06:00',
    'Sat 00:00 06:00',
    'Sat 00:00-06:00 Mars/Olympus',
    'Sat- 00:00-06:00',
    'Sat 00:00-06:00 UTC extra',
  ])('refuses "%s" with UPLIFT_USAGE and the expected form', (text) => {
    expect(() => parseAllowed(text)).toThrow(
      expect.objectContaining({
        code: 'UPLIFT_USAGE',
        hint: expect.stringContaining('Sat-Sun 00:00-06:00 Europe/Paris'),
      }),
    );
  });
});

describe('allowedIntervals', () => {
  it('moves a Paris night in UTC across the autumn change, and the change night is 7 hours', () => {
    const rule = parseAllowed('Sat-Sun 00:00-06:00 Europe/Paris');

    const got = allowedIntervals([rule], at('2026-10-19T00:00Z'), at('2026-11-02T00:00Z'));

    expect(got.map((i) => [iso(i.start), iso(i.end), hours(i)])).toEqual([
      ['2026-10-23T22:00Z', '2026-10-24T04:00Z', 6],
      ['2026-10-24T22:00Z', '2026-10-25T05:00Z', 7],
      ['2026-10-30T23:00Z', '2026-10-31T05:00Z', 6],
      ['2026-10-31T23:00Z', '2026-11-01T05:00Z', 6],
    ]);
    expect(got.every((i) => i.rule === 'Sat-Sun 00:00-06:00 Europe/Paris')).toBe(true);
  });

  it('makes the spring change night 5 hours long', () => {
    const rule = parseAllowed('Sun 00:00-06:00 Europe/Paris');

    const got = allowedIntervals([rule], at('2026-03-23T00:00Z'), at('2026-04-06T00:00Z'));

    expect(got.map((i) => [iso(i.start), hours(i)])).toEqual([
      ['2026-03-28T23:00Z', 5],
      ['2026-04-04T22:00Z', 6],
    ]);
  });

  it("follows America/New_York's November change", () => {
    const rule = parseAllowed('Sun 00:00-04:00 America/New_York');

    const got = allowedIntervals([rule], at('2026-10-26T00:00Z'), at('2026-11-09T12:00Z'));

    expect(got.map((i) => [iso(i.start), iso(i.end)])).toEqual([
      ['2026-11-01T04:00Z', '2026-11-01T09:00Z'],
      ['2026-11-08T05:00Z', '2026-11-08T09:00Z'],
    ]);
  });

  it('crosses midnight from the day it starts on, clips to the span and merges rules', () => {
    const rules = [parseAllowed('Fri 22:00-04:00'), parseAllowed('Sat 03:00-05:00')];

    const got = allowedIntervals(rules, at('2026-06-05T23:00Z'), at('2026-06-13T02:00Z'));

    expect(got.map((i) => [iso(i.start), iso(i.end), i.rule])).toEqual([
      ['2026-06-05T23:00Z', '2026-06-06T05:00Z', 'Fri 22:00-04:00'],
      ['2026-06-12T22:00Z', '2026-06-13T02:00Z', 'Fri 22:00-04:00'],
    ]);
  });
});
