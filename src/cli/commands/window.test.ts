import { describe, expect, it } from 'vitest';
import { handler, type WindowCommandOptions } from './window.ts';

const io = { stderr: () => {}, stderrIsTty: false };
const options = (over: Partial<WindowCommandOptions>): WindowCommandOptions => ({
  to: 'latest',
  log: ['/nonexistent/x.log'],
  duration: '1h',
  calendar: [],
  allowed: [],
  weeks: '1',
  count: '3',
  ...over,
});

describe('window handler', () => {
  it.each(['0000-01-01', '-001000-01-01', '+002026-11-02', '1969-12-31', '2200-01-01'])(
    'refuses --from %s with UPLIFT_USAGE before reading anything',
    async (from) => {
      await expect(handler(options({ from }), io)).rejects.toMatchObject({
        code: 'UPLIFT_USAGE',
        message: expect.stringContaining('--from'),
      });
    },
  );
});
