import { describe, expect, it } from 'vitest';
import { parseFilePath } from './file-store.ts';

describe('parseFilePath', () => {
  it.each`
    raw                    | segments
    ${''}                  | ${[]}
    ${'a.txt'}             | ${['a.txt']}
    ${'in/2024/a%20b.csv'} | ${['in', '2024', 'a b.csv']}
    ${'folder/'}           | ${['folder']}
    ${'..data'}            | ${['..data']}
  `('accepts "$raw"', ({ raw, segments }) => {
    expect(parseFilePath(raw)).toEqual({ ok: true, segments });
  });

  it.each([
    '../etc/passwd',
    'a/../../b',
    '%2e%2e/secret',
    'a/%2E%2E/%2e%2e/b',
    './a',
    '/etc/passwd',
    'a//b',
    'a%00.txt',
    'a%2fb',
    'a%5c..%5cb',
    '%E0%A4%A',
  ])('rejects "%s"', (raw) => {
    expect(parseFilePath(raw).ok).toBe(false);
  });
});
