import { describe, expect, it } from 'vitest';
import { intersectIntervals, mergeIntervals, subtractIntervals, totalLength } from './intervals.ts';
import type { Interval } from './types.ts';

const iv = (pairs: [number, number][]): Interval[] => pairs.map(([start, end]) => ({ start, end }));

describe('interval algebra', () => {
  it.each([
    { list: [], merged: [] },
    {
      list: [
        [5, 7],
        [1, 3],
      ],
      merged: [
        [1, 3],
        [5, 7],
      ],
    },
    {
      list: [
        [1, 3],
        [3, 5],
      ],
      merged: [[1, 5]],
    },
    {
      list: [
        [1, 10],
        [2, 3],
        [9, 12],
      ],
      merged: [[1, 12]],
    },
    {
      list: [
        [4, 4],
        [1, 2],
      ],
      merged: [[1, 2]],
    },
  ] as { list: [number, number][]; merged: [number, number][] }[])(
    'merges $list into $merged',
    ({ list, merged }) => {
      expect(mergeIntervals(iv(list))).toEqual(iv(merged));
    },
  );

  it.each([
    {
      a: [[0, 10]],
      b: [
        [2, 4],
        [6, 12],
      ],
      out: [
        [2, 4],
        [6, 10],
      ],
    },
    {
      a: [
        [0, 2],
        [5, 9],
      ],
      b: [[1, 6]],
      out: [
        [1, 2],
        [5, 6],
      ],
    },
    { a: [[0, 2]], b: [[2, 4]], out: [] },
    { a: [], b: [[0, 1]], out: [] },
  ] as { a: [number, number][]; b: [number, number][]; out: [number, number][] }[])(
    'intersects $a with $b',
    ({ a, b, out }) => {
      expect(intersectIntervals(iv(a), iv(b))).toEqual(iv(out));
      expect(intersectIntervals(iv(b), iv(a))).toEqual(iv(out));
    },
  );

  it.each([
    {
      a: [[0, 10]],
      b: [
        [2, 4],
        [6, 7],
      ],
      out: [
        [0, 2],
        [4, 6],
        [7, 10],
      ],
    },
    {
      a: [[0, 10]],
      b: [
        [-5, 3],
        [8, 20],
      ],
      out: [[3, 8]],
    },
    { a: [[0, 10]], b: [[0, 10]], out: [] },
    {
      a: [
        [0, 2],
        [4, 6],
      ],
      b: [[1, 5]],
      out: [
        [0, 1],
        [5, 6],
      ],
    },
    { a: [[0, 2]], b: [], out: [[0, 2]] },
  ] as { a: [number, number][]; b: [number, number][]; out: [number, number][] }[])(
    'subtracts $b from $a',
    ({ a, b, out }) => {
      expect(subtractIntervals(iv(a), iv(b))).toEqual(iv(out));
    },
  );

  it('leaves its inputs alone and sums lengths', () => {
    const a = iv([
      [4, 6],
      [0, 2],
    ]);

    const merged = mergeIntervals(a);

    expect(a).toEqual(
      iv([
        [4, 6],
        [0, 2],
      ]),
    );
    expect(totalLength(merged)).toBe(4);
  });
});
