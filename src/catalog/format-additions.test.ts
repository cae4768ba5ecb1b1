import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import {
  demoCatalogFile,
  demoDurations,
  demoHeader,
  refusalOf,
  whollyIllustrative,
} from '../../test/util/demo-catalog-text.ts';
import { parseCatalog } from './load.ts';

/*
 * The catalog format additions of issue 12 (settle checks, announced releases, any-patch stops,
 * channels, duration formulas, step methods): what the loader refuses, and where it says so.
 * Each case's text starts on line 9, after the header.
 */

const file = demoCatalogFile;
const header = demoHeader;
const durations = demoDurations;
const wholly = whollyIllustrative;
const refusal = (text: string) => refusalOf(() => parseCatalog(`${text}\n${wholly}\n`, file));

/** Texts placed after the header (line 9 on), followed by the durations unless they give their own. */
const tails: Record<string, string> = {
  'a formula that does not parse': dedent`
    upgrade: {}
    durations:
      downloadBytesPerSecond: 1000000
      backup: { seconds: 60 }
      stop: { seconds: 10 }
      apply: { seconds: 60 }
      migrate: { formula: "ceil(nodes / max_unavailable * 10m" }
      start: { seconds: 20 }
      validate: { seconds: 300 }
      rollback: { seconds: 120 }
  `,
  'a formula with an unknown function in a release override':
    '  - version: 5.5 GA\n    kind: ga\n    durations:\n      migrate: { formula: "sqrt(nodes) * 1m" }\nupgrade: {}',
  'a duration with neither seconds nor formula':
    '  - version: 5.5 GA\n    kind: ga\n    durations:\n      migrate: { per: [] }\nupgrade: {}',
};

describe('catalog format additions: refusals', () => {
  it.each`
    problem                                                       | line  | col   | path                                       | message
    ${'a formula that does not parse'}                            | ${15} | ${23} | ${'durations.migrate.formula'}             | ${'at character 35: expected ")" at the end'}
    ${'a formula with an unknown function in a release override'} | ${12} | ${27} | ${'releases[3].durations.migrate.formula'} | ${'at character 1: unknown function "sqrt"'}
    ${'a duration with neither seconds nor formula'}              | ${12} | ${16} | ${'releases[3].durations.migrate'}         | ${'give seconds, a formula, or both'}
  `('$problem at $line:$col ($path)', async ({ problem, line, col, path, message }) => {
    const tail = tails[problem] as string;
    const text = `${header}\n${tail}\n${tail.includes('durations:\n  downloadBytesPerSecond') || tail.startsWith('upgrade: {}\ndurations') ? '' : durations}\n`;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      exitCode: 2,
      location: { file, line, col, path },
    });
    expect(err.message).toContain(message);
    expect(err.hint).toMatch(/\S/);
  });
});

describe('catalog format additions: accepted', () => {
  it('keeps a formula as written, for the estimate', () => {
    const text = `${header}\nupgrade: {}\n${durations.replace('migrate: { seconds: 0 }', 'migrate: { seconds: 30, formula: "ceil(nodes / max_unavailable) * 10m" }')}\n`;

    const c = parseCatalog(`${text}\n${wholly}\n`, file);

    expect(c.catalog.durations.migrate).toEqual({
      seconds: 30,
      formula: 'ceil(nodes / max_unavailable) * 10m',
    });
  });
});

describe('settle', () => {
  it.each`
    problem                        | settle                                        | col   | path
    ${'a misspelt field'}          | ${'{ check: migrations, timeoutMinute: 5 }'}  | ${34} | ${'releases[3].settle.timeoutMinute'}
    ${'no check'}                  | ${'{ timeoutMinutes: 5 }'}                    | ${13} | ${'releases[3].settle.check'}
    ${'a timeout of zero'}         | ${'{ check: migrations, timeoutMinutes: 0 }'} | ${50} | ${'releases[3].settle.timeoutMinutes'}
    ${'a check name with a blank'} | ${'{ check: "data migrations" }'}             | ${22} | ${'releases[3].settle.check'}
  `('refuses $problem at line 11 ($path)', async ({ settle, col, path }) => {
    const text = `${header}\n  - version: 5.5 GA\n    kind: ga\n    settle: ${settle}\nupgrade: {}\n${durations}\n`;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file, line: 11, path },
    });
    expect(err.location?.col).toBe(col);
  });

  it('fills in the defaults', () => {
    const text = `${header}\n  - { version: 5.5 GA, kind: ga, settle: { check: migrations } }\nupgrade: {}\n${durations}\n`;

    const c = parseCatalog(`${text}\n${wholly}\n`, file);

    expect(c.releases.get('5.5 GA')?.settle).toEqual({
      check: 'migrations',
      timeoutMinutes: 60,
      intervalSeconds: 10,
    });
  });
});

describe('channels and announced releases', () => {
  it.each`
    problem                                 | text                                                                                                                                     | line | path
    ${'a release in an undeclared channel'} | ${'channels: [{ id: stable }]\n' + 'releases:\n  - { version: 5.3.0 GA, kind: ga, channels: [stabel] }\nupgrade: {}'}                    | ${7} | ${'releases[0].channels[0]'}
    ${'two default channels'}               | ${'channels: [{ id: stable, default: true }, { id: fast, default: true }]\nreleases:\n  - { version: 5.3.0 GA, kind: ga }\nupgrade: {}'} | ${5} | ${'channels[1].default'}
    ${'a channel declared twice'}           | ${'channels: [{ id: stable }, { id: stable }]\nreleases:\n  - { version: 5.3.0 GA, kind: ga }\nupgrade: {}'}                             | ${5} | ${'channels[1].id'}
    ${'announced given as text'}            | ${'releases:\n  - { version: 5.3.0 GA, kind: ga, announced: "yes" }\nupgrade: {}'}                                                       | ${6} | ${'releases[0].announced'}
  `('refuses $problem ($path)', async ({ text, line, path }) => {
    const err = await refusal(
      `catalog: 1\nproduct: demo\ntitle: Demo\nversionScheme: dotted-patch\n${text}\n${durations}\n`,
    );

    expect(err).toMatchObject({ code: 'UPLIFT_CATALOG_INVALID', location: { file, line, path } });
  });
});

describe('any-patch stops', () => {
  it('refuses an any-patch stop that overlaps the next stop', async () => {
    const text = `${header}\nupgrade:\n  requiredStops:\n    - { release: 5.3.0, take: any-patch }\n    - { release: 5.3.0, take: exact, version: 5.3.0 Patch 1 }\n${durations}\n`;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file, line: 12, path: 'upgrade.requiredStops[1]' },
    });
  });

  it('resolves an any-patch stop to the levels of its release', () => {
    const text = `${header}\nupgrade:\n  requiredStops: [{ release: 5.3.0, take: any-patch }]\n${durations}\n`;

    const c = parseCatalog(`${text}\n${wholly}\n`, file);

    expect(c.stops.map((s) => [s.version, s.upTo])).toEqual([['5.3.0 GA', '5.3.0 Patch 1']]);
  });
});

describe('step methods', () => {
  it.each`
    problem                              | method                                                                            | path
    ${'two ways in one method'}          | ${'{ command: { argv: [a] }, package: { manager: apt, name: d, version: "1" } }'} | ${'releases[3].methods[0]'}
    ${'no way at all'}                   | ${'{ platform: linux-x86-64 }'}                                                   | ${'releases[3].methods[0]'}
    ${'a package without its version'}   | ${'{ package: { manager: apt, name: demo } }'}                                    | ${'releases[3].methods[0].package.version'}
    ${'an image without its digest'}     | ${'{ image: { ref: "demo:1.1" } }'}                                               | ${'releases[3].methods[0].image.digest'}
    ${'an installer without its sha256'} | ${'{ installer: { file: setup.bin } }'}                                           | ${'releases[3].methods[0].installer.sha256'}
    ${'a command with an empty argv'}    | ${'{ command: { argv: [] } }'}                                                    | ${'releases[3].methods[0].command.argv'}
  `('refuses $problem ($path)', async ({ method, path }) => {
    const text = `${header}\n  - version: 5.5 GA\n    kind: ga\n    methods: [${method}]\nupgrade: {}\n${durations}\n`;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file, line: 11, path },
    });
  });
});
