import { describe, expect, it } from 'vitest';
import { createRegexScheme } from './index.ts';

const parts = createRegexScheme(
  String.raw`regex:(?<major>\d+)\.(?<minor>\d+)(?:\.(?<patch>\d+))?(?:r(?<level>\d+))?(?:-(?<prerelease>[a-z0-9.]+))?`,
);
const dotted = createRegexScheme(
  String.raw`regex:^(?<release>\d+(?:\.\d+)+)(?:\s+(?<kind>GA|RA|SP|Patch)\s*(?<build>\d+)?)?$`,
);
const revision = createRegexScheme(
  String.raw`regex:R(?<major>\d+)\.(?<revision>\d+)|R(?<minor>\d+)`,
);

describe('versioning/regex', () => {
  it.each`
    scheme      | version           | release      | level | levelKind         | prerelease
    ${parts}    | ${'7.1r3'}        | ${[7, 1]}    | ${3}  | ${'other'}        | ${undefined}
    ${parts}    | ${'7.1'}          | ${[7, 1]}    | ${0}  | ${'ga'}           | ${undefined}
    ${parts}    | ${'7.1.2'}        | ${[7, 1, 2]} | ${0}  | ${'ga'}           | ${undefined}
    ${parts}    | ${'7.1r0-beta.2'} | ${[7, 1]}    | ${0}  | ${'ga'}           | ${'beta.2'}
    ${dotted}   | ${'4.2.1'}        | ${[4, 2, 1]} | ${0}  | ${'ga'}           | ${undefined}
    ${dotted}   | ${'4.2.1 ra'}     | ${[4, 2, 1]} | ${0}  | ${'ra'}           | ${undefined}
    ${dotted}   | ${'4.2.1 SP 2'}   | ${[4, 2, 1]} | ${2}  | ${'service-pack'} | ${undefined}
    ${dotted}   | ${'4.2 Patch 7'}  | ${[4, 2]}    | ${7}  | ${'patch'}        | ${undefined}
    ${revision} | ${'R3.14'}        | ${[3]}       | ${14} | ${'other'}        | ${undefined}
    ${revision} | ${'R2'}           | ${[0, 2]}    | ${0}  | ${'ga'}           | ${undefined}
  `(
    '$scheme.id parses "$version"',
    ({ scheme, version, release, level, levelKind, prerelease }) => {
      expect(scheme.parse(version)).toEqual({
        release,
        level,
        levelKind,
        ...(prerelease && { prerelease }),
      });
    },
  );

  it.each`
    scheme      | version
    ${parts}    | ${'7'}
    ${parts}    | ${'7.1r'}
    ${parts}    | ${'x7.1'}
    ${parts}    | ${'7.1x'}
    ${dotted}   | ${'4'}
    ${revision} | ${'R3.14x'}
    ${revision} | ${''}
  `('$scheme.id rejects "$version" (the pattern is anchored)', ({ scheme, version }) => {
    expect(scheme.isValid(version)).toBe(false);
    expect(() => scheme.compare(version, version)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
  });

  it.each`
    scheme    | a                | b
    ${parts}  | ${'7.1r0-beta'}  | ${'7.1'}
    ${parts}  | ${'7.1'}         | ${'7.1r1'}
    ${parts}  | ${'7.1r9'}       | ${'7.1r10'}
    ${parts}  | ${'7.1r10'}      | ${'7.1.1'}
    ${parts}  | ${'7.9'}         | ${'7.10'}
    ${dotted} | ${'4.2 Patch 7'} | ${'4.2.1'}
  `('$scheme.id: "$a" < "$b"', ({ scheme, a, b }) => {
    expect(scheme.compare(a, b)).toBeLessThan(0);
    expect(scheme.compare(b, a)).toBeGreaterThan(0);
  });

  it.each`
    scheme    | a           | b
    ${parts}  | ${'7.1'}    | ${'7.1.0'}
    ${parts}  | ${'7.1'}    | ${'7.1r0'}
    ${dotted} | ${'4.2 GA'} | ${'4.2.0'}
    ${dotted} | ${'4.2 RA'} | ${'4.2'}
  `('$scheme.id: "$a" = "$b"', ({ scheme, a, b }) => {
    expect(scheme.equals(a, b)).toBe(true);
  });

  it.each`
    scheme    | version       | isGA     | isBase   | release
    ${parts}  | ${'7.1'}      | ${true}  | ${true}  | ${'7.1'}
    ${parts}  | ${'7.1r3'}    | ${false} | ${false} | ${'7.1'}
    ${parts}  | ${'7.1-rc1'}  | ${false} | ${false} | ${'7.1'}
    ${parts}  | ${'7.1.0'}    | ${true}  | ${true}  | ${'7.1.0'}
    ${dotted} | ${'4.2 RA'}   | ${false} | ${true}  | ${'4.2'}
    ${dotted} | ${'4.2 SP 1'} | ${false} | ${false} | ${'4.2'}
  `(
    '$scheme.id "$version": isGA $isGA, isBase $isBase, releaseOf $release',
    ({ scheme, version, isGA, isBase, release }) => {
      expect(scheme.isGA(version)).toBe(isGA);
      expect(scheme.isBase(version)).toBe(isBase);
      expect(scheme.releaseOf(version)).toBe(release);
    },
  );

  it('keeps the declared id', () => {
    expect(parts.id).toBe(
      String.raw`regex:(?<major>\d+)\.(?<minor>\d+)(?:\.(?<patch>\d+))?(?:r(?<level>\d+))?(?:-(?<prerelease>[a-z0-9.]+))?`,
    );
  });

  it.each`
    id                                           | why
    ${'regex:(?<major>\\d+'}                     | ${'unbalanced parenthesis'}
    ${'regex:\\d+\\.\\d+'}                       | ${'no major or release group'}
    ${'regex:(?<minor>\\d+)'}                    | ${'minor without major'}
    ${'regex:\\(?<major>\\d+\\)'}                | ${'an escaped parenthesis is not a group'}
    ${'regex:[(?<major>]\\d+'}                   | ${'a character class is not a group'}
    ${'regex:(?<major>\\d+)\\.(?<release>\\d+)'} | ${'both major and release'}
    ${'semver'}                                  | ${'not a regex id'}
  `('throws UPLIFT_VERSION_SCHEME_UNKNOWN for "$id" ($why)', ({ id }) => {
    expect(() => createRegexScheme(id)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_SCHEME_UNKNOWN', hint: expect.any(String) }),
    );
  });
});
