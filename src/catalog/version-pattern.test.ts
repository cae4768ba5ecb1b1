import { describe, expect, it } from 'vitest';
import { getScheme } from '../versioning/index.ts';
import { compilePattern, type VersionPattern } from './version-pattern.ts';

const scheme = getScheme('dotted-patch');

const versions = [
  '5.2.1 SP8',
  '5.2.1 SP9',
  '5.3.0 GA',
  '5.3.0 Patch 1',
  '5.3.0 Patch 14',
  '5.3.1',
  '5.4 GA',
  '5.4 Patch 2',
  '5.5-20240829',
];

function compiled(source: string): VersionPattern {
  const p = compilePattern(source, scheme);
  if (typeof p === 'string') throw new Error(`expected "${source}" to compile, got: ${p}`);
  return p;
}

describe('compilePattern', () => {
  it.each`
    source                                | matching
    ${'*'}                                | ${versions}
    ${'5.4'}                              | ${['5.4 GA']}
    ${'5.4.0 GA'}                         | ${['5.4 GA']}
    ${'=5.3.0 Patch 1'}                   | ${['5.3.0 Patch 1']}
    ${'release:5.3.0'}                    | ${['5.3.0 GA', '5.3.0 Patch 1', '5.3.0 Patch 14']}
    ${'release: 5.3.0 Patch 1'}           | ${['5.3.0 GA', '5.3.0 Patch 1', '5.3.0 Patch 14']}
    ${'>=5.3.0 GA, <5.4'}                 | ${['5.3.0 GA', '5.3.0 Patch 1', '5.3.0 Patch 14', '5.3.1']}
    ${'>5.3.0 GA,<=5.3.1'}                | ${['5.3.0 Patch 1', '5.3.0 Patch 14', '5.3.1']}
    ${'<5.3.0 GA'}                        | ${['5.2.1 SP8', '5.2.1 SP9']}
    ${'>5.4'}                             | ${['5.4 Patch 2', '5.5-20240829']}
    ${'5.2.1 SP9 || 5.2.1 SP8'}           | ${['5.2.1 SP8', '5.2.1 SP9']}
    ${'5.2.1 SP8 || release:5.3.0'}       | ${['5.2.1 SP8', '5.3.0 GA', '5.3.0 Patch 1', '5.3.0 Patch 14']}
    ${'>=5.4, <5.4 Patch 2 || 5.2.1 SP9'} | ${['5.2.1 SP9', '5.4 GA']}
    ${'  >= 5.5-20240829  ||  5.3.1  '}   | ${['5.3.1', '5.5-20240829']}
  `('"$source" matches $matching', ({ source, matching }) => {
    const p = compiled(source);

    const matched = versions.filter((v) => p.matches(v));

    expect(matched).toEqual(matching);
    expect(p.source).toBe(source);
  });

  it.each`
    source                      | exact
    ${'5.4'}                    | ${'5.4'}
    ${'5.3.0 Patch 14'}         | ${'5.3.0 Patch 14'}
    ${'=5.3.0 Patch 1'}         | ${'5.3.0 Patch 1'}
    ${'= 5.4 GA'}               | ${'5.4 GA'}
    ${'  5.2.1 SP9  '}          | ${'5.2.1 SP9'}
    ${'*'}                      | ${undefined}
    ${'release:5.3.0'}          | ${undefined}
    ${'>=5.3.0 GA'}             | ${undefined}
    ${'<5.4'}                   | ${undefined}
    ${'>=5.3.0 GA, <5.4'}       | ${undefined}
    ${'5.2.1 SP9 || 5.2.1 SP8'} | ${undefined}
    ${'5.4, 5.4 GA'}            | ${undefined}
  `('"$source" has exact $exact', ({ source, exact }) => {
    const p = compiled(source);

    expect(p.exact).toBe(exact);
  });

  it.each`
    source
    ${''}
    ${'5.x'}
    ${'>=5.3.0 GA,'}
    ${'5.4 ||'}
    ${'|| 5.4'}
    ${'5.4,,5.5'}
    ${'>=banana'}
    ${'>> 5.4'}
    ${'=>5.4'}
    ${'release:'}
    ${'release:5.x'}
    ${'5.3.0 Patch 0'}
    ${'**'}
  `('"$source" is refused with a reason', ({ source }) => {
    const p = compilePattern(source, scheme);

    expect(p).toEqual(expect.any(String));
    expect(p).not.toBe('');
  });

  it('reads versions in the scheme it is given', () => {
    const semver = getScheme('semver');

    const p = compilePattern('>=2.4.0, <3.0.0', semver);

    expect(typeof p).not.toBe('string');
    const matches = (p as VersionPattern).matches;
    expect(['2.3.9', '2.4.0', '2.4.10', '3.0.0-rc.1', '3.0.0'].filter(matches)).toEqual([
      '2.4.0',
      '2.4.10',
      '3.0.0-rc.1',
    ]);
    expect(compilePattern('5.3.0 GA', semver)).toEqual(expect.any(String));
  });
});
