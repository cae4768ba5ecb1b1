import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { blackoutsFromIcs } from './calendar.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000', '');
const spans = (list: { start: number; end: number; summary: string }[]) =>
  list.map((b) => [iso(b.start), iso(b.end), b.summary]);

const paris = dedent`
  BEGIN:VTIMEZONE
  TZID:Europe/Paris
  BEGIN:DAYLIGHT
  TZOFFSETFROM:+0100
  TZOFFSETTO:+0200
  TZNAME:CEST
  DTSTART:19700329T020000
  RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
  END:DAYLIGHT
  BEGIN:STANDARD
  TZOFFSETFROM:+0200
  TZOFFSETTO:+0100
  TZNAME:CET
  DTSTART:19701025T030000
  RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
  END:STANDARD
  END:VTIMEZONE`;

const calendar = (body: string, head = '') =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//uplift tests//EN\r\n${head}${body}\r\nEND:VCALENDAR\r\n`;

/** One event "Freeze" from 2026-01-01 00:00 UTC: its end (line 8) and its rule (line 9). */
const event = (end: string, rule: string) =>
  calendar(
    `BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:Freeze\r\nDTSTART:20260101T000000Z\r\n${end}\r\n${rule}\r\nEND:VEVENT`,
  );

describe('blackoutsFromIcs', () => {
  it('expands a weekly freeze in its VTIMEZONE, without the EXDATE and with the moved instance', () => {
    // Fridays 18:00-23:00 Paris; 23 Oct is cancelled by EXDATE; 30 Oct moves to Sat 31 Oct 10:00-12:00.
    const ics = calendar(
      dedent`
        ${paris}
        BEGIN:VEVENT
        UID:freeze@example
        SUMMARY:Payroll freeze
        DTSTART;TZID=Europe/Paris:20261016T180000
        DTEND;TZID=Europe/Paris:20261016T230000
        RRULE:FREQ=WEEKLY;BYDAY=FR
        EXDATE;TZID=Europe/Paris:20261023T180000
        END:VEVENT
        BEGIN:VEVENT
        UID:freeze@example
        RECURRENCE-ID;TZID=Europe/Paris:20261030T180000
        SUMMARY:Payroll freeze
        DTSTART;TZID=Europe/Paris:20261031T100000
        DTEND;TZID=Europe/Paris:20261031T120000
        END:VEVENT`,
    );

    const got = blackoutsFromIcs(
      ics,
      'freeze.ics',
      at('2026-10-12T00:00Z'),
      at('2026-11-10T00:00Z'),
    );

    expect(spans(got)).toEqual([
      ['2026-10-16T16:00Z', '2026-10-16T21:00Z', 'Payroll freeze'],
      ['2026-10-31T09:00Z', '2026-10-31T11:00Z', 'Payroll freeze'],
      ['2026-11-06T17:00Z', '2026-11-06T22:00Z', 'Payroll freeze'],
    ]);
    expect(got.every((b) => b.source === 'freeze.ics')).toBe(true);
  });

  it('adds an RDATE, drops a cancelled instance and takes in one moved from after the span', () => {
    const ics = calendar(
      dedent`
        BEGIN:VEVENT
        UID:daily
        SUMMARY:Batch
        DTSTART:20261101T020000Z
        DURATION:PT1H
        RRULE:FREQ=DAILY;COUNT=10
        RDATE:20261101T200000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:daily
        RECURRENCE-ID:20261102T020000Z
        SUMMARY:Batch
        STATUS:CANCELLED
        DTSTART:20261102T020000Z
        DURATION:PT1H
        END:VEVENT
        BEGIN:VEVENT
        UID:daily
        RECURRENCE-ID:20261108T020000Z
        SUMMARY:Batch (early)
        DTSTART:20261103T120000Z
        DURATION:PT30M
        END:VEVENT`,
    );

    const got = blackoutsFromIcs(
      ics,
      'batch.ics',
      at('2026-11-01T00:00Z'),
      at('2026-11-04T00:00Z'),
    );

    expect(spans(got)).toEqual([
      ['2026-11-01T02:00Z', '2026-11-01T03:00Z', 'Batch'],
      ['2026-11-01T20:00Z', '2026-11-01T21:00Z', 'Batch'],
      ['2026-11-03T02:00Z', '2026-11-03T03:00Z', 'Batch'],
      ['2026-11-03T12:00Z', '2026-11-03T12:30Z', 'Batch (early)'],
    ]);
  });

  it('expands a rule that began long before the search, with an old instance moved into it', () => {
    const ics = calendar(
      dedent`
        BEGIN:VEVENT
        UID:nightly
        SUMMARY:Nightly batch
        DTSTART:20240101T010000Z
        DTEND:20240101T014500Z
        RRULE:FREQ=DAILY
        END:VEVENT
        BEGIN:VEVENT
        UID:nightly
        RECURRENCE-ID:20250601T010000Z
        SUMMARY:Catch-up batch
        DTSTART:20261102T120000Z
        DTEND:20261102T130000Z
        END:VEVENT`,
    );

    const got = blackoutsFromIcs(ics, 'n.ics', at('2026-11-01T00:00Z'), at('2026-11-03T00:00Z'));

    expect(spans(got)).toEqual([
      ['2026-11-01T01:00Z', '2026-11-01T01:45Z', 'Nightly batch'],
      ['2026-11-02T01:00Z', '2026-11-02T01:45Z', 'Nightly batch'],
      ['2026-11-02T12:00Z', '2026-11-02T13:00Z', 'Catch-up batch'],
    ]);
  });

  it('reads all-day events in the calendar zone, DURATION, and a TZID the file does not define', () => {
    const ics = calendar(
      dedent`
        BEGIN:VEVENT
        UID:a
        SUMMARY:Quarter close
        DTSTART;VALUE=DATE:20261231
        DTEND;VALUE=DATE:20270102
        END:VEVENT
        BEGIN:VEVENT
        UID:b
        SUMMARY:Holiday
        DTSTART;VALUE=DATE:20261225
        END:VEVENT
        BEGIN:VEVENT
        UID:c
        SUMMARY:NY release
        DTSTART;TZID=America/New_York:20261228T220000
        DURATION:PT3H
        END:VEVENT`,
      'X-WR-TIMEZONE:Europe/Paris\r\n',
    );

    const got = blackoutsFromIcs(ics, 'x.ics', at('2026-12-20T00:00Z'), at('2027-01-10T00:00Z'));

    expect(spans(got)).toEqual([
      ['2026-12-24T23:00Z', '2026-12-25T23:00Z', 'Holiday'],
      ['2026-12-29T03:00Z', '2026-12-29T06:00Z', 'NY release'],
      ['2026-12-30T23:00Z', '2027-01-01T23:00Z', 'Quarter close'],
    ]);
  });

  it('reads floating times in the zone it is given, and clips to the span', () => {
    const ics = calendar(
      dedent`
        BEGIN:VEVENT
        UID:a
        SUMMARY:Month end
        DTSTART:20261130T200000
        DTEND:20261201T080000
        END:VEVENT`,
    );

    const read = (from: string) =>
      spans(
        blackoutsFromIcs(ics, 'm.ics', at(from), at('2026-12-08T00:00Z'), {
          floatingZone: 'Asia/Tokyo',
        }),
      );

    expect(read('2026-11-30T00:00Z')).toEqual([
      ['2026-11-30T11:00Z', '2026-11-30T23:00Z', 'Month end'],
    ]);
    expect(read('2026-11-30T20:00Z')).toEqual([
      ['2026-11-30T20:00Z', '2026-11-30T23:00Z', 'Month end'],
    ]);
    expect(read('2026-12-01T00:00Z')).toEqual([]);
  });

  it('stops a rule that can never match at the end of the search, with a warning at its line', () => {
    const ics = event('DURATION:PT1H', 'RRULE:FREQ=DAILY;BYDAY=MO;BYMONTH=2;BYMONTHDAY=31');
    const warnings: string[] = [];

    const got = blackoutsFromIcs(ics, 'c.ics', at('2026-11-05T00:00Z'), at('2026-11-12T00:00Z'), {
      onWarning: (w) => warnings.push(w),
    });

    expect(got).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^c\.ics:9: event "Freeze": RRULE/)]);
  });

  it('refuses a rule that steps too often without reaching the search', () => {
    const ics = calendar(
      'BEGIN:VEVENT\r\nUID:s\r\nSUMMARY:S\r\nDTSTART:20200101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=31\r\nEND:VEVENT',
    );

    expect(() =>
      blackoutsFromIcs(ics, 's.ics', at('2026-11-05T00:00Z'), at('2026-11-12T00:00Z')),
    ).toThrow(
      expect.objectContaining({
        code: 'UPLIFT_CALENDAR_INVALID',
        location: { file: 's.ics', line: 9 },
      }),
    );
  });

  describe('refuses a bad calendar with UPLIFT_CALENDAR_INVALID at its line', () => {
    it.each([
      {
        name: 'a line without a colon',
        ics: 'BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nthis is not ics\nEND:VEVENT\nEND:VCALENDAR\n',
        line: 4,
      },
      {
        name: 'an event that never ends',
        ics: 'BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:20261101T000000Z\nEND:VCALENDAR\n',
        line: 3,
      },
      {
        name: 'a TZID that is neither defined nor IANA',
        ics: calendar(
          'BEGIN:VEVENT\r\nUID:w\r\nSUMMARY:W\r\nDTSTART;TZID=W. Europe Standard Time:20261101T000000\r\nDURATION:PT1H\r\nEND:VEVENT',
        ),
        line: 7,
      },
      {
        name: 'an event without DTSTART',
        ics: calendar('BEGIN:VEVENT\r\nUID:n\r\nSUMMARY:N\r\nEND:VEVENT'),
        line: 4,
      },
      {
        name: 'a date that is not one',
        ics: calendar('BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:D\r\nDTSTART:2026xx01\r\nEND:VEVENT'),
        line: 7,
      },
      {
        name: 'a WEEKLY rule with BYMONTHDAY',
        ics: event('DURATION:PT1H', 'RRULE:FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30'),
        line: 9,
      },
      {
        name: 'a negative COUNT',
        ics: event('DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=-1'),
        line: 9,
      },
      {
        name: 'a COUNT of 0',
        ics: event('DURATION:PT1H', 'RRULE:FREQ=DAILY;COUNT=0'),
        line: 9,
      },
      {
        name: 'a DTEND before DTSTART',
        ics: event('DTEND:20251231T000000Z', 'RRULE:FREQ=DAILY'),
        line: 8,
      },
      {
        name: 'a negative DURATION',
        ics: event('DURATION:-P7D', 'RRULE:FREQ=DAILY'),
        line: 8,
      },
      {
        name: 'a moved instance that ends before it starts',
        ics: event(
          'DURATION:PT1H',
          'RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:e\r\nRECURRENCE-ID:20261102T000000Z\r\nDTSTART:20261102T050000Z\r\nDTEND:20261102T040000Z',
        ),
        line: 15,
      },
    ])('$name', ({ ics, line }) => {
      expect(() =>
        blackoutsFromIcs(ics, 'bad.ics', at('2026-10-01T00:00Z'), at('2026-12-01T00:00Z')),
      ).toThrow(
        expect.objectContaining({
          code: 'UPLIFT_CALENDAR_INVALID',
          location: { file: 'bad.ics', line },
        }),
      );
    });

    it.each([
      { text: 'hello', line: 1 },
      { text: '\n\n{{{ not: [yaml\n', line: 3 },
      { text: '', line: undefined },
      { text: '\n  \n', line: undefined },
    ])('a file that is not a calendar at all: %j', ({ text, line }) => {
      expect(() => blackoutsFromIcs(text, 'notes.txt', 0, 1)).toThrow(
        expect.objectContaining({
          code: 'UPLIFT_CALENDAR_INVALID',
          location: line === undefined ? { file: 'notes.txt' } : { file: 'notes.txt', line },
        }),
      );
    });
  });
});
