import { describe, expect, it } from 'vitest';
import { matchesCron, parseCron } from './cron.ts';

// Local time throughout: cron runs on the server's clock.
const at = (iso: string) => new Date(iso);

describe('cron', () => {
  it.each`
    expr                | time                     | matches
    ${'15 2 * * *'}     | ${'2024-03-04T02:15:00'} | ${true}
    ${'15 2 * * *'}     | ${'2024-03-04T02:16:00'} | ${false}
    ${'*/15 * * * *'}   | ${'2024-03-04T10:45:00'} | ${true}
    ${'*/15 * * * *'}   | ${'2024-03-04T10:44:00'} | ${false}
    ${'0 9-17 * * 1-5'} | ${'2024-03-04T12:00:00'} | ${true}
    ${'0 9-17 * * 1-5'} | ${'2024-03-09T12:00:00'} | ${false}
    ${'30 3 * * 0'}     | ${'2024-03-10T03:30:00'} | ${true}
    ${'30 3 * * 7'}     | ${'2024-03-10T03:30:00'} | ${true}
    ${'0 0 1 * 1'}      | ${'2024-04-01T00:00:00'} | ${true}
    ${'0 0 1 * 1'}      | ${'2024-03-04T00:00:00'} | ${true}
    ${'0 0 1 * 1'}      | ${'2024-03-05T00:00:00'} | ${false}
    ${'5,10 1 * 3 *'}   | ${'2024-03-05T01:10:00'} | ${true}
    ${'@daily'}         | ${'2024-03-05T00:00:00'} | ${true}
    ${'@hourly'}        | ${'2024-03-05T07:01:00'} | ${false}
  `('"$expr" at $time: $matches', ({ expr, time, matches }) => {
    expect(matchesCron(parseCron(expr), at(time))).toBe(matches);
  });

  it.each(['* * * *', '60 * * * *', '* 24 * * *', 'a * * * *', '5-1 * * * *', '*/0 * * * *'])(
    'rejects "%s"',
    (expr) => {
      expect(() => parseCron(expr)).toThrow();
    },
  );
});
