import { describe, expect, it } from 'vitest';
import { formatCtime, formatXferlogLine } from './xferlog.ts';

describe('xferlog', () => {
  it('writes ctime with a space-padded day, like wu-ftpd', () => {
    expect(formatCtime(new Date(2026, 10, 6, 20, 52, 33))).toBe('Fri Nov  6 20:52:33 2026');
    expect(formatCtime(new Date(2026, 10, 26, 8, 5, 3))).toBe('Thu Nov 26 08:05:03 2026');
  });

  it('writes the 14 fields of the wu-ftpd format', () => {
    const end = new Date(2026, 10, 26, 20, 52, 33).getTime();

    const line = formatXferlogLine(
      {
        id: '1',
        account: 'alice',
        path: '/in/pay roll.csv',
        bytes: 1234,
        sha256: '',
        direction: 'in',
        status: 'completed',
        start: end - 2400,
        end,
      },
      '127.0.0.1',
    );

    expect(line).toBe(
      'Thu Nov 26 20:52:33 2026 2 127.0.0.1 1234 /in/pay_roll.csv b _ i r alice http 0 * c',
    );
    expect(line.split(/\s+/)).toHaveLength(18);
  });

  it('marks downloads "o" and failed transfers incomplete', () => {
    const line = formatXferlogLine(
      {
        id: '2',
        account: 'bob',
        path: '/x',
        bytes: 0,
        sha256: '',
        direction: 'out',
        status: 'failed',
        start: 0,
        end: 100,
      },
      '10.0.0.1',
    );

    expect(line).toMatch(/ 1 10\.0\.0\.1 0 \/x b _ o r bob http 0 \* i$/);
  });
});
