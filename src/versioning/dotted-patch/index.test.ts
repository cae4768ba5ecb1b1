import { describe, expect, it } from 'vitest';
import { api } from './index.ts';

describe('versioning/dotted-patch', () => {
  it.each`
    version                   | release         | level       | levelKind
    ${'5.2.1 SP9'}            | ${[5, 2, 1]}    | ${9}        | ${'service-pack'}
    ${'5.2.1 SP 8'}           | ${[5, 2, 1]}    | ${8}        | ${'service-pack'}
    ${'5.2.1 sp10'}           | ${[5, 2, 1]}    | ${10}       | ${'service-pack'}
    ${'5.2.1 Service Pack 3'} | ${[5, 2, 1]}    | ${3}        | ${'service-pack'}
    ${'5.3.0 GA'}             | ${[5, 3, 0]}    | ${0}        | ${'ga'}
    ${'5.3.0 ga'}             | ${[5, 3, 0]}    | ${0}        | ${'ga'}
    ${'5.4'}                  | ${[5, 4]}       | ${0}        | ${'ga'}
    ${'5.4.0'}                | ${[5, 4, 0]}    | ${0}        | ${'ga'}
    ${'5.4.0.1'}              | ${[5, 4, 0, 1]} | ${0}        | ${'ga'}
    ${'5.3.0 Patch 14'}       | ${[5, 3, 0]}    | ${14}       | ${'patch'}
    ${'  5.3.0   PATCH   2 '} | ${[5, 3, 0]}    | ${2}        | ${'patch'}
    ${'5.4 FP3'}              | ${[5, 4]}       | ${3}        | ${'patch'}
    ${'5.4 Patch 3'}          | ${[5, 4]}       | ${3}        | ${'patch'}
    ${'5.3.5 RA'}             | ${[5, 3, 5]}    | ${0}        | ${'ra'}
    ${'5.5-20240829'}         | ${[5, 5]}       | ${20240829} | ${'dated-update'}
    ${'5.5 Update 20240829'}  | ${[5, 5]}       | ${20240829} | ${'dated-update'}
  `('parse("$version")', ({ version, release, level, levelKind }) => {
    expect(api.parse(version)).toEqual({ release, level, levelKind });
  });

  it.each`
    version
    ${''}
    ${'   '}
    ${'5'}
    ${'5.x'}
    ${'5.3.0.1.2'}
    ${'5.3.0 Patch'}
    ${'5.3.0 Patch 0'}
    ${'5.3.0 SP-1'}
    ${'5.3.0 SP'}
    ${'5.3.0 GA 2'}
    ${'5.5-2024'}
    ${'5.5-20241301'}
    ${'5.5-202408291'}
    ${'v5.4'}
    ${'5.4 beta'}
  `('rejects "$version"', ({ version }) => {
    expect(api.isValid(version)).toBe(false);
    expect(api.parse(version)).toBeNull();
    expect(() => api.compare(version, '5.4')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
    );
  });

  it.each`
    a                   | b
    ${'5.2.1 SP8'}      | ${'5.2.1 SP9'}
    ${'5.2.1 SP9'}      | ${'5.3.0 GA'}
    ${'5.3.0 GA'}       | ${'5.3.0 Patch 1'}
    ${'5.3.0 Patch 1'}  | ${'5.3.0 Patch 2'}
    ${'5.3.0 Patch 2'}  | ${'5.3.0 Patch 14'}
    ${'5.3.0 Patch 14'} | ${'5.3.1'}
    ${'5.3.1'}          | ${'5.3.5 RA'}
    ${'5.3.5 RA'}       | ${'5.4 FP1'}
    ${'5.4 FP3'}        | ${'5.4.1'}
    ${'5.5 GA'}         | ${'5.5-20210901'}
    ${'5.5-20210901'}   | ${'5.5-20240829'}
    ${'5.5-20240829'}   | ${'5.10'}
  `('"$a" < "$b"', ({ a, b }) => {
    expect(api.compare(a, b)).toBeLessThan(0);
    expect(api.compare(b, a)).toBeGreaterThan(0);
    expect(api.equals(a, b)).toBe(false);
  });

  it.each`
    a               | b
    ${'5.4'}        | ${'5.4 GA'}
    ${'5.4'}        | ${'5.4.0 GA'}
    ${'5.4 GA'}     | ${'5.4.0'}
    ${'5.3.5 RA'}   | ${'5.3.5'}
    ${'5.4 FP3'}    | ${'5.4.0 Patch 3'}
    ${'5.2.1 SP 8'} | ${'5.2.1 sp8'}
  `('"$a" = "$b"', ({ a, b }) => {
    expect(api.compare(a, b)).toBe(0);
    expect(api.equals(a, b)).toBe(true);
  });

  it.each`
    version             | isGA     | isBase   | release
    ${'5.3.0 GA'}       | ${true}  | ${true}  | ${'5.3.0'}
    ${'5.4'}            | ${true}  | ${true}  | ${'5.4'}
    ${'5.3.5 RA'}       | ${false} | ${true}  | ${'5.3.5'}
    ${'5.3.0 Patch 14'} | ${false} | ${false} | ${'5.3.0'}
    ${'5.4 Patch 2'}    | ${false} | ${false} | ${'5.4'}
    ${'5.2.1 SP9'}      | ${false} | ${false} | ${'5.2.1'}
    ${'5.5-20240829'}   | ${false} | ${false} | ${'5.5'}
    ${'5.x'}            | ${false} | ${false} | ${undefined}
  `(
    '"$version": isGA $isGA, isBase $isBase, releaseOf $release',
    ({ version, isGA, isBase, release }) => {
      expect(api.isGA(version)).toBe(isGA);
      expect(api.isBase(version)).toBe(isBase);
      if (release === undefined) {
        expect(() => api.releaseOf(version)).toThrow(
          expect.objectContaining({ code: 'UPLIFT_VERSION_INVALID' }),
        );
      } else {
        expect(api.releaseOf(version)).toBe(release);
      }
    },
  );

  it('names the value and the scheme in UPLIFT_VERSION_INVALID, with a hint', () => {
    let error: unknown;

    try {
      api.compare('5.3.0 Patch', '5.4');
    } catch (e) {
      error = e;
    }

    expect(error).toMatchObject({ code: 'UPLIFT_VERSION_INVALID', hint: expect.any(String) });
    expect((error as Error).message).toContain('5.3.0 Patch');
    expect((error as Error).message).toContain('dotted-patch');
  });

  it('returns a parse result the caller may change without affecting later parses', () => {
    const first = api.parse('5.3.0 Patch 14');
    first?.release.push(9);

    expect(api.parse('5.3.0 Patch 14')?.release).toEqual([5, 3, 0]);
  });
});
