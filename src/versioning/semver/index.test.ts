import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { api } from './index.ts';

describe('versioning/semver', () => {
  it.each`
    version            | expected
    ${'2.4.1'}         | ${true}
    ${'0.0.0'}         | ${true}
    ${'3.0.0-rc.1'}    | ${true}
    ${'1.2.3+build.5'} | ${true}
    ${' 1.2.3 '}       | ${true}
    ${'v1.2.3'}        | ${true}
    ${'1.2'}           | ${false}
    ${'1.2.x'}         | ${false}
    ${'01.2.3'}        | ${false}
    ${'1.2.3-'}        | ${false}
    ${''}              | ${false}
    ${'latest'}        | ${false}
  `('isValid("$version") === $expected', ({ version, expected }) => {
    expect(api.isValid(version)).toBe(expected);
  });

  it.each`
    version             | release   | level | levelKind  | prerelease
    ${'2.4.1'}          | ${[2, 4]} | ${1}  | ${'patch'} | ${undefined}
    ${'2.4.0'}          | ${[2, 4]} | ${0}  | ${'ga'}    | ${undefined}
    ${'3.0.0-rc.1'}     | ${[3, 0]} | ${0}  | ${'ga'}    | ${'rc.1'}
    ${'3.0.2-beta.2.x'} | ${[3, 0]} | ${2}  | ${'patch'} | ${'beta.2.x'}
    ${'1.2.3+build.5'}  | ${[1, 2]} | ${3}  | ${'patch'} | ${undefined}
  `('parse("$version")', ({ version, release, level, levelKind, prerelease }) => {
    const parsed = api.parse(version);

    expect(parsed).toEqual({ release, level, levelKind, ...(prerelease && { prerelease }) });
  });

  it.each`
    a                | b                  | expected
    ${'2.4.0'}       | ${'2.4.1'}         | ${-1}
    ${'2.4.1'}       | ${'2.10.0'}        | ${-1}
    ${'2.4.1'}       | ${'2.4.1'}         | ${0}
    ${'1.2.3+a'}     | ${'1.2.3+b'}       | ${0}
    ${'3.0.0-rc.1'}  | ${'3.0.0'}         | ${-1}
    ${'3.0.0-rc.1'}  | ${'3.0.0-rc.2'}    | ${-1}
    ${'3.0.0-rc.2'}  | ${'3.0.0-rc.10'}   | ${-1}
    ${'3.0.0-alpha'} | ${'3.0.0-alpha.1'} | ${-1}
    ${'3.0.0-1'}     | ${'3.0.0-alpha'}   | ${-1}
    ${'2.4.1-rc.1'}  | ${'2.4.0'}         | ${1}
    ${'10.0.0'}      | ${'9.9.9'}         | ${1}
  `('compare("$a", "$b") === $expected', ({ a, b, expected }) => {
    expect(api.compare(a, b)).toBe(expected);
    expect(api.compare(b, a)).toBe(-expected || 0);
  });

  it('orders like the semver package', () => {
    const versions = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0-0',
      '1.1.0',
      '2.0.0',
    ];

    for (const a of versions) {
      for (const b of versions) {
        expect(api.compare(a, b), `${a} vs ${b}`).toBe(semver.compare(a, b));
      }
    }
  });

  it.each`
    a          | b           | expected
    ${'2.4.0'} | ${'v2.4.0'} | ${true}
    ${'2.4.0'} | ${'2.4.1'}  | ${false}
  `('equals("$a", "$b") === $expected', ({ a, b, expected }) => {
    expect(api.equals(a, b)).toBe(expected);
  });

  it.each`
    version         | isGA     | isBase   | release
    ${'2.4.0'}      | ${true}  | ${true}  | ${'2.4'}
    ${'2.4.1'}      | ${false} | ${false} | ${'2.4'}
    ${'3.0.0-rc.1'} | ${false} | ${false} | ${'3.0'}
    ${'0.1.0'}      | ${true}  | ${true}  | ${'0.1'}
  `(
    '"$version": isGA $isGA, isBase $isBase, releaseOf $release',
    ({ version, isGA, isBase, release }) => {
      expect(api.isGA(version)).toBe(isGA);
      expect(api.isBase(version)).toBe(isBase);
      expect(api.releaseOf(version)).toBe(release);
    },
  );

  it.each`
    version
    ${'1.2'}
    ${'x'}
  `('compare and releaseOf throw UPLIFT_VERSION_INVALID for "$version"', ({ version }) => {
    expect(() => api.compare(version, '1.0.0')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
    expect(() => api.releaseOf(version)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
    expect(api.isGA(version)).toBe(false);
    expect(api.isBase(version)).toBe(false);
  });
});
