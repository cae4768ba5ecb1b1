import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each`
    text        | seconds
    ${'90m'}    | ${5400}
    ${'1h30m'}  | ${5400}
    ${'5400s'}  | ${5400}
    ${'5400'}   | ${5400}
    ${'2h'}     | ${7200}
    ${'1d2h'}   | ${93_600}
    ${'45min'}  | ${2700}
    ${' 1H5M '} | ${3900}
    ${'364d'}   | ${31_449_600}
  `('reads $text as $seconds s', ({ text, seconds }) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    '',
    '0',
    '0m',
    'an hour',
    '1.5h',
    '-5m',
    '30m1h',
    'h',
    '99999999999999999999',
    '365d',
    '8737h',
  ])('refuses "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_USAGE', hint: expect.stringContaining('1h30m') }),
    );
  });
});
