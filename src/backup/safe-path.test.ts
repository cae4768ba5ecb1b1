import { describe, expect, it } from 'vitest';
import { checkRelativePath, parentOf } from './safe-path.ts';

describe('checkRelativePath', () => {
  it.each(['.', 'a', 'a/b', 'conf/private dir/a file ü ✓.txt', 'back\\slash', '..hidden', 'a/...'])(
    'accepts %j',
    (p) => {
      expect(checkRelativePath(p, 'x.tar.gz')).toBe(p);
    },
  );

  it.each([
    '',
    '/etc/passwd',
    '//etc',
    '..',
    '../x',
    'a/../../x',
    'a/..',
    'a//b',
    'a/./b',
    './a',
    'a/',
    'nul\0byte',
  ])('refuses %j', (p) => {
    expect(() => checkRelativePath(p, 'x.tar.gz')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_BACKUP_UNSAFE_ENTRY' }),
    );
  });
});

describe('parentOf', () => {
  it.each`
    path       | parent
    ${'a'}     | ${'.'}
    ${'a/b'}   | ${'a'}
    ${'a/b/c'} | ${'a/b'}
  `('$path → $parent', ({ path, parent }) => {
    expect(parentOf(path)).toBe(parent);
  });
});
