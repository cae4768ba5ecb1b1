import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { schemes } from './api.ts';
import {
  baseOfRelease,
  findEqual,
  getScheme,
  latestOfRelease,
  listSchemes,
  sameRelease,
  sortVersions,
  type VersionScheme,
} from './index.ts';

const ParsedVersion = z.strictObject({
  release: z.array(z.int().nonnegative()).min(1),
  level: z.int().nonnegative(),
  levelKind: z.enum(['ga', 'ra', 'patch', 'service-pack', 'dated-update', 'other']),
  prerelease: z.string().min(1).optional(),
});

const Scheme = z.object({
  id: z.string().min(1),
  description: z.string().min(1),
  parse: z.function(),
  isValid: z.function(),
  compare: z.function(),
  equals: z.function(),
  isGA: z.function(),
  isBase: z.function(),
  releaseOf: z.function(),
});

const regexId = String.raw`regex:(?<major>\d+)\.(?<minor>\d+)(?:r(?<level>\d+))?`;

/** A sample of each scheme's versions, deliberately unsorted and with equal spellings. */
const samples: Record<string, readonly string[]> = {
  semver: [
    '2.4.1',
    '1.0.0',
    '2.4.0',
    '3.0.0-rc.1',
    '2.4.10',
    'v2.4.0',
    '3.0.0',
    '3.0.0-beta.2',
    '0.9.0',
  ],
  'dotted-patch': [
    '5.3.0 Patch 14',
    '5.4',
    '5.2.1 SP9',
    '5.3.0 GA',
    '5.4.0 GA',
    '5.3.5 RA',
    '5.5-20240829',
    '5.3.0 Patch 1',
    '5.4 FP3',
    '5.3.5',
    '5.5 GA',
    '5.5-20210901',
    '5.3.1',
    '5.2.1 SP 8',
  ],
  [regexId]: ['7.1r3', '7.0', '7.1', '7.1r0', '7.10r1', '7.2r12', '7.2r2'],
};

const cases: [string, VersionScheme, string][] = [
  ...[...schemes].map(([id, scheme]): [string, VersionScheme, string] => [id, scheme, id]),
  [regexId, getScheme(regexId), 'regex'],
];

describe('versioning registry', () => {
  it('lists every registered scheme', () => {
    expect(listSchemes()).toEqual([...schemes.keys()].sort());
  });

  describe.each(cases)('%s', (id, scheme, folder) => {
    const versions = samples[id] ?? [];

    it('has a sample list for this test', () => {
      expect(versions.length).toBeGreaterThan(3);
    });

    it('satisfies the interface and is what getScheme returns', () => {
      expect(Scheme.safeParse(scheme).success).toBe(true);
      expect(scheme.id).toBe(id);
      expect(getScheme(id)).toBe(scheme);
    });

    it('has a readme.md in its folder', () => {
      expect(existsSync(new URL(`./${folder}/readme.md`, import.meta.url))).toBe(true);
    });

    it('parses into the ParsedVersion shape', () => {
      for (const version of versions) {
        expect(ParsedVersion.safeParse(scheme.parse(version)).error, version).toBeUndefined();
        expect(scheme.isValid(version)).toBe(true);
      }
      expect(scheme.parse('not a version')).toBeNull();
    });

    it('orders consistently: reflexive, antisymmetric, transitive', () => {
      for (const a of versions) {
        expect(scheme.compare(a, a)).toBe(0);
        for (const b of versions) {
          const sum = Math.sign(scheme.compare(a, b)) + Math.sign(scheme.compare(b, a));
          expect(sum, `${a} vs ${b}`).toBe(0);
          expect(scheme.equals(a, b)).toBe(scheme.compare(a, b) === 0);
          for (const c of versions) {
            if (scheme.compare(a, b) <= 0 && scheme.compare(b, c) <= 0) {
              expect(scheme.compare(a, c), `${a} <= ${b} <= ${c}`).toBeLessThanOrEqual(0);
            }
          }
        }
      }
    });

    it('keeps isGA within isBase', () => {
      for (const version of versions) {
        if (scheme.isGA(version)) expect(scheme.isBase(version), version).toBe(true);
      }
    });

    it('accepts a releaseOf result wherever the helpers take a release', () => {
      for (const version of versions) {
        if (scheme.parse(version)?.prerelease !== undefined) continue;
        const latest = latestOfRelease(scheme, versions, scheme.releaseOf(version));

        expect(latest, version).toBeDefined();
        expect(sameRelease(scheme, latest ?? '', version)).toBe(true);
        expect(scheme.compare(latest ?? '', version)).toBeGreaterThanOrEqual(0);
      }
    });

    it('throws UPLIFT_VERSION_INVALID when comparing a non-version', () => {
      expect(() => scheme.compare('not a version', versions[0] ?? '')).toThrow(
        expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
      );
    });
  });

  it.each`
    id
    ${'dotted'}
    ${'SemVer'}
    ${''}
    ${'regex:(?<major>'}
    ${'regex:\\d+'}
  `('getScheme("$id") throws UPLIFT_VERSION_SCHEME_UNKNOWN with a hint', ({ id }) => {
    let error: unknown;

    try {
      getScheme(id);
    } catch (e) {
      error = e;
    }

    expect(error).toMatchObject({
      code: 'UPLIFT_VERSION_SCHEME_UNKNOWN',
      hint: expect.any(String),
    });
  });

  it('lists the known ids in the hint for an unknown id', () => {
    expect(() => getScheme('dotted')).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('dotted-patch') }),
    );
  });

  it('returns the same regex scheme for the same id', () => {
    expect(getScheme(regexId)).toBe(getScheme(regexId));
  });
});

describe('versioning helpers', () => {
  const st = getScheme('dotted-patch');
  const catalog = [
    '5.2.1 SP9',
    '5.3.0 GA',
    '5.3.0 Patch 14',
    '5.3.0 Patch 2',
    '5.3.5 RA',
    '5.3.5 Patch 1',
    '5.4.0',
    '5.4 FP3',
    '5.5 GA',
    '5.5-20240829',
    '5.5-20210901',
  ];

  it('sortVersions sorts ascending, stably, without mutating', () => {
    const input = ['5.4', '5.3.0 Patch 2', '5.4.0 GA', '5.2.1 SP9', '5.4 GA'];
    const before = [...input];

    const sorted = sortVersions(st, input);

    expect(sorted).toEqual(['5.2.1 SP9', '5.3.0 Patch 2', '5.4', '5.4.0 GA', '5.4 GA']);
    expect(input).toEqual(before);
  });

  it('sortVersions throws UPLIFT_VERSION_INVALID for an invalid element', () => {
    expect(() => sortVersions(st, ['5.4', '5.x'])).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
  });

  it.each`
    a                  | b              | expected
    ${'5.3.0 Patch 2'} | ${'5.3 GA'}    | ${true}
    ${'5.4'}           | ${'5.4.0 FP3'} | ${true}
    ${'5.5-20240829'}  | ${'5.5'}       | ${true}
    ${'5.3.0'}         | ${'5.3.1'}     | ${false}
    ${'5.2.1 SP9'}     | ${'5.2 GA'}    | ${false}
  `('sameRelease("$a", "$b") === $expected', ({ a, b, expected }) => {
    expect(sameRelease(st, a, b)).toBe(expected);
  });

  it.each`
    release            | latest              | base
    ${'5.3.0'}         | ${'5.3.0 Patch 14'} | ${'5.3.0 GA'}
    ${'5.3.0 GA'}      | ${'5.3.0 Patch 14'} | ${'5.3.0 GA'}
    ${'5.3.0 Patch 2'} | ${'5.3.0 Patch 14'} | ${'5.3.0 GA'}
    ${'5.3.5'}         | ${'5.3.5 Patch 1'}  | ${'5.3.5 RA'}
    ${'5.4 GA'}        | ${'5.4 FP3'}        | ${'5.4.0'}
    ${'5.5'}           | ${'5.5-20240829'}   | ${'5.5 GA'}
    ${'5.2.1'}         | ${'5.2.1 SP9'}      | ${undefined}
    ${'5.6'}           | ${undefined}        | ${undefined}
  `('release "$release": latest $latest, base $base', ({ release, latest, base }) => {
    expect(latestOfRelease(st, catalog, release)).toBe(latest);
    expect(baseOfRelease(st, catalog, release)).toBe(base);
  });

  it('latestOfRelease ignores pre-releases', () => {
    const semver = getScheme('semver');

    expect(latestOfRelease(semver, ['2.4.0', '2.4.1', '2.4.2-rc.1'], '2.4.0')).toBe('2.4.1');
    expect(baseOfRelease(semver, ['2.4.0-rc.1', '2.4.0'], '2.4.9')).toBe('2.4.0');
  });

  it.each`
    input               | expected
    ${'5.4 GA'}         | ${'5.4.0'}
    ${'5.4'}            | ${'5.4.0'}
    ${'5.3.0 patch 14'} | ${'5.3.0 Patch 14'}
    ${'5.3.5'}          | ${'5.3.5 RA'}
    ${'5.3.0 Patch 3'}  | ${undefined}
  `('findEqual("$input") === $expected', ({ input, expected }) => {
    expect(findEqual(st, catalog, input)).toBe(expected);
  });

  it('findEqual throws UPLIFT_VERSION_INVALID for an invalid input', () => {
    expect(() => findEqual(st, catalog, '5.3.0 Patch')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
  });
});
