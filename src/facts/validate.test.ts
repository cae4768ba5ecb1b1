import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpliftError } from '../errors/index.ts';
import {
  checkFactFlags,
  closest,
  declaredFacts,
  type FactCheck,
  factWarnings,
  loadFacts,
  parseFactFlag,
} from './index.ts';
import { FactDeclarations } from './schema.ts';

const declared = declaredFacts({
  name: 'demo',
  facts: FactDeclarations.parse({
    'database.type': {
      type: 'enum',
      values: ['mysql', 'oracle', 'mssql', 'postgresql'],
      description: 'the database',
    },
    'database.version': { type: 'version', description: 'its version' },
    'data.installBytes': { type: 'integer', unit: 'bytes', min: 0, description: 'size' },
    'network.proxyConfigured': { type: 'boolean', description: 'a proxy is set' },
    'protocols.enabled': { type: 'list', values: ['ssh', 'ftp', 'as2'], description: 'on' },
    settings: { type: 'map', description: 'a whole settings file' },
    'settings.Direct.Connection.When.Proxy.Down': { type: 'boolean', description: 'a setting' },
  }),
});
if (!declared) throw new Error('unreachable: facts are declared above');

function check(allowUndeclared = false): FactCheck {
  return { declared: declared as NonNullable<typeof declared>, allowUndeclared, warnings: [] };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-facts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function factsFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${text}\n`);
  return file;
}

describe('facts files against the declared facts', () => {
  it.each`
    name                     | text                                                       | code                         | line | col   | says
    ${'misspelt key'}        | ${'version: 5.4 GA\ndatabse:\n  type: oracle'}             | ${'UPLIFT_FACTS_UNDECLARED'} | ${2} | ${1}  | ${'did you mean database?'}
    ${'misspelt nested key'} | ${'database:\n  type: oracle\n  vesion: "19.3"'}           | ${'UPLIFT_FACTS_UNDECLARED'} | ${3} | ${3}  | ${'did you mean database.version?'}
    ${'bad enum value'}      | ${'database:\n  type: oracel'}                             | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${9}  | ${'did you mean oracle?'}
    ${'wrong type'}          | ${'data:\n  installBytes: 7 GiB'}                          | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${17} | ${'expected a whole number (bytes)'}
    ${'below the minimum'}   | ${'data:\n  installBytes: -1'}                             | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${17} | ${'of at least 0'}
    ${'above 2^53'}          | ${'data:\n  installBytes: 99999999999999999999999'}        | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${17} | ${'cannot be held exactly'}
    ${'boolean as text'}     | ${'network:\n  proxyConfigured: "yes"'}                    | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${20} | ${'expected true or false'}
    ${'list item not known'} | ${'protocols:\n  enabled: [ssh, fpt]'}                     | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${18} | ${'did you mean ftp?'}
    ${'group as a value'}    | ${'database: oracle'}                                      | ${'UPLIFT_FACTS_INVALID'}    | ${1} | ${11} | ${'is a group of facts'}
    ${'typed key in a map'}  | ${'settings:\n  Direct.Connection.When.Proxy.Down: maybe'} | ${'UPLIFT_FACTS_INVALID'}    | ${2} | ${38} | ${'expected true or false'}
  `('$name: $code at line $line, column $col', async ({ name, text, code, line, col, says }) => {
    const file = await factsFile(`${name.replaceAll(' ', '-')}.yaml`, text);

    const err = (await loadFacts(file, check()).catch((e: unknown) => e)) as UpliftError;

    expect(err).toMatchObject({ code, exitCode: 2, location: { file, line, col } });
    expect(err.message).toContain(says);
    expect(err.message).toContain(file);
  });

  it.each`
    name                       | text
    ${'declared facts'}        | ${'version: 5.4 GA\ndatabase: {type: oracle, version: "19.3"}\nprotocols: {enabled: [ssh]}'}
    ${'unknown means null'}    | ${'database:\n  type: null'}
    ${'anything in a map'}     | ${'settings:\n  any.key: 1\n  nested: {deep: true}'}
    ${'built-in facts'}        | ${'platform: {os: linux, arch: x86-64, id: linux-x86-64}\nowner: {user: x, root: false}'}
    ${'a version as a number'} | ${'database:\n  version: 14'}
  `('accepts $name', async ({ name, text }) => {
    const file = await factsFile(`ok-${name.replaceAll(' ', '-')}.yaml`, text);

    await expect(loadFacts(file, check())).resolves.toBeTypeOf('object');
  });

  it('with --allow-undeclared takes an unknown fact and an undeclared value, with warnings', async () => {
    const file = await factsFile('experiment.yaml', 'database:\n  type: db2\nexperiment: 1');
    const c = check(true);

    const facts = await loadFacts(file, c);

    expect(facts).toMatchObject({ database: { type: 'db2' }, experiment: 1 });
    expect(c.warnings).toEqual([
      expect.stringMatching(/experiment\.yaml:2:9: database\.type: "db2" is not one of/),
      expect.stringMatching(/experiment\.yaml:3:1: .*declares no fact "experiment"/),
    ]);
  });

  it('with --allow-undeclared still refuses a value of the wrong type', async () => {
    const file = await factsFile('wrong-type.yaml', 'data:\n  installBytes: lots');

    await expect(loadFacts(file, check(true))).rejects.toMatchObject({
      code: 'UPLIFT_FACTS_INVALID',
      location: { line: 2, col: 17 },
    });
  });

  it('reports every problem of a file, the first as the message', async () => {
    const file = await factsFile('many.yaml', 'databse: {}\nnetwork:\n  proxyConfigured: 1');

    const err = (await loadFacts(file, check()).catch((e: unknown) => e)) as UpliftError;

    expect(err.details.map((d) => [d.location?.line, d.location?.col])).toEqual([
      [1, 1],
      [3, 20],
    ]);
  });
});

describe('a facts file that is not a regular file', () => {
  it('is refused at once when it is a FIFO, not waited on', async () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);

    await expect(loadFacts(fifo, check())).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      exitCode: 2,
      location: { file: fifo },
    });
  });
});

describe('--fact flags against the declared facts', () => {
  it.each`
    flag                                           | code                         | says
    ${'database.type=oracel'}                      | ${'UPLIFT_FACTS_INVALID'}    | ${'did you mean oracle?'}
    ${'database.type=Oracle'}                      | ${'UPLIFT_FACTS_INVALID'}    | ${'did you mean oracle?'}
    ${'databse.type=oracle'}                       | ${'UPLIFT_FACTS_UNDECLARED'} | ${'did you mean database.type?'}
    ${'data.installBytes=big'}                     | ${'UPLIFT_FACTS_INVALID'}    | ${'expected a whole number'}
    ${'data.installBytes=99999999999999999999999'} | ${'UPLIFT_FACTS_INVALID'}    | ${'cannot be held exactly'}
    ${'network.proxyConfigured=yes'}               | ${'UPLIFT_FACTS_INVALID'}    | ${'expected true or false'}
    ${'database=oracle'}                           | ${'UPLIFT_FACTS_INVALID'}    | ${'is a group of facts'}
    ${'nothing.like.this=1'}                       | ${'UPLIFT_FACTS_UNDECLARED'} | ${'declares no fact "nothing.like.this"'}
  `('--fact $flag: $code', ({ flag, code, says }) => {
    let err: UpliftError | undefined;
    try {
      checkFactFlags([parseFactFlag(flag)], check());
    } catch (e) {
      err = e as UpliftError;
    }

    expect(err).toMatchObject({ code, exitCode: 2 });
    expect(err?.message).toContain(`--fact ${flag}`);
    expect(err?.message).toContain(says);
  });

  it.each([
    'database.type=oracle',
    'database.version=19.3',
    'data.installBytes=42',
    'settings.Direct.Connection.When.Proxy.Down=true',
    'settings.anything=x',
    'platform.id=linux-x86-64',
  ])('takes --fact %s', (flag) => {
    const c = check();

    checkFactFlags([parseFactFlag(flag)], c);

    expect(c.warnings).toEqual([]);
  });

  it('with --allow-undeclared takes an unknown fact with a warning', () => {
    const c = check(true);

    checkFactFlags([parseFactFlag('experiment.flag=true')], c);

    expect(c.warnings).toEqual([
      expect.stringContaining('--fact experiment.flag=true: the profile demo declares no fact'),
    ]);
  });
});

describe('detected facts shown against the declared facts (uplift facts)', () => {
  it('lists every problem, the allowed and the refused alike, and throws none', () => {
    const detected = {
      database: { type: 'oracel', version: 'n/a' },
      data: { installBytes: -1 },
      settings: { 'db.type': 'oracle', 'Direct.Connection.When.Proxy.Down': 'yes' },
      experiment: 1,
    };

    const warnings = factWarnings(detected, { kind: 'detected', install: '/srv/demo' }, declared);

    expect(warnings).toEqual([
      expect.stringMatching(
        /^\/srv\/demo: database\.type: "oracel" is not one of .*did you mean oracle\?$/,
      ),
      expect.stringMatching(/^\/srv\/demo: database\.version: expected a version/),
      expect.stringMatching(
        /^\/srv\/demo: data\.installBytes: expected a number \(bytes\) of at least 0/,
      ),
      expect.stringMatching(
        /^\/srv\/demo: settings\.Direct\.Connection\.When\.Proxy\.Down: expected true or false/,
      ),
      expect.stringMatching(/^\/srv\/demo: the profile demo declares no fact "experiment"/),
    ]);
  });

  it('says nothing of facts the declarations take', () => {
    const detected = { database: { type: 'oracle' }, settings: { anything: 1 }, version: '1.0' };

    expect(factWarnings(detected, { kind: 'detected', install: '/srv/demo' }, declared)).toEqual(
      [],
    );
  });
});

describe('closest', () => {
  it.each`
    wrong        | candidates                                  | expected
    ${'oracel'}  | ${['mysql', 'oracle', 'mssql']}             | ${'oracle'}
    ${'databse'} | ${['data', 'database', 'deployment']}       | ${'database'}
    ${'MSSQL'}   | ${['mysql', 'oracle', 'mssql']}             | ${'mssql'}
    ${'db2'}     | ${['mysql', 'oracle', 'mssql', 'postgres']} | ${undefined}
  `('$wrong → $expected', ({ wrong, candidates, expected }) => {
    expect(closest(wrong, candidates)).toBe(expected);
  });
});
