import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInProfilesDir, loadProfile } from '../profile/index.ts';

/** Profiles with a detection section go through the real loader: strict fields, positioned errors. */
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-detect-schema-'));
  await copyFile(join(builtInProfilesDir, 'skiff/catalog.yaml'), join(dir, 'catalog.yaml'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(detection: string) {
  const text = `profile: 1\nname: t\ntitle: T\ncatalog: catalog.yaml\ndetection:\n${detection}`;
  await writeFile(join(dir, 'profile.yaml'), text);
  return loadProfile(dir);
}

const version = "  version: { file: version, pattern: '^(?<version>.+)$' }\n";

describe('the detection section of a profile', () => {
  it('accepts the built-in profiles', async () => {
    for (const name of ['skiff', 'securetransport']) {
      const p = await loadProfile(name);

      expect(p.manifest.detection?.version).toBeTruthy();
    }
  });

  it('fills defaults for the optional lists', async () => {
    const p = await load(version);

    expect(p.manifest.detection).toStrictEqual({
      version: { file: 'version', pattern: '^(?<version>.+)$' },
      settings: [],
      commands: [],
      services: [],
      data: [],
      derive: [],
      ignore: [],
    });
  });

  it.each([
    {
      name: 'a misspelt field',
      yaml: `${version}  settings:\n    - { file: conf/a.properties, format: properties, int: settings }\n`,
      line: 8,
      message: /unknown field "int"/,
    },
    {
      name: 'a version pattern without the version group',
      yaml: "  version: { file: version, pattern: '^(.+)$' }\n",
      line: 6,
      message: /\(\?<version>/,
    },
    {
      name: 'an invalid regular expression',
      yaml: "  version: { file: version, pattern: '^(?<version>.+' }\n",
      line: 6,
      message: /regular expression/,
    },
    {
      name: 'a path leaving the installation',
      yaml: `${version}  data:\n    - { fact: data.x, countFiles: ../other }\n`,
      line: 8,
      message: /relative to the installation/,
    },
    {
      name: 'two kinds of measure at once',
      yaml: `${version}  data:\n    - { fact: data.x, countFiles: var, sumBytes: var }\n`,
      line: 8,
      message: /exactly one of sqlite, countFiles, sumBytes, countLines/,
    },
    {
      name: 'sqlite without queries',
      yaml: `${version}  data:\n    - { fact: data.rows, sqlite: var/db/x.db }\n`,
      line: 8,
      message: /sqlite needs queries/,
    },
    {
      name: 'an XML file read into flat keys',
      yaml: `${version}  settings:\n    - { file: s.xml, format: xml, into: x }\n`,
      line: 8,
      message: /XPath/,
    },
    {
      name: 'an unknown format',
      yaml: `${version}  settings:\n    - { file: s.toml, format: toml, into: x }\n`,
      line: 8,
      message: /format/,
    },
    {
      name: 'differs without the vendor value',
      yaml: `${version}  derive:\n    - { fact: a.b, differs: s.x }\n`,
      line: 8,
      message: /vendor/,
    },
    {
      name: 'a default without from',
      yaml: `${version}  derive:\n    - { fact: a.b, isSet: s.x, default: 1 }\n`,
      line: 8,
      message: /default goes with from/,
    },
    {
      name: 'two version sources',
      yaml: "  version: { file: version, json: package.json, path: version, pattern: '(?<version>.+)' }\n",
      line: 6,
      message: /exactly one of file, json, yaml, xml, command/,
    },
    {
      name: 'a json version without its path',
      yaml: '  version: { json: package.json }\n',
      line: 6,
      message: /path goes with json or yaml/,
    },
    {
      name: 'a command version without a pattern',
      yaml: "  version: { command: { argv: ['node', '--version'] } }\n",
      line: 6,
      message: /command needs a pattern/,
    },
    {
      name: 'a regex settings file without a pattern',
      yaml: `${version}  settings:\n    - { file: a.txt, format: regex, into: x }\n`,
      line: 8,
      message: /format regex needs a pattern/,
    },
    {
      name: 'a fact path through __proto__',
      yaml: `${version}  commands:\n    - { fact: __proto__.polluted, command: { argv: [x] } }\n`,
      line: 8,
      message: /__proto__/,
    },
    {
      name: 'a select key through constructor',
      yaml: `${version}  settings:\n    - { file: a.json, format: json, select: { a.b: constructor.prototype } }\n`,
      line: 8,
      message: /constructor/,
    },
    {
      name: 'a bad rule in when',
      yaml: `${version}  derive:\n    - { fact: a.b, value: 1, when: { fact: x, bigger: 2 } }\n`,
      line: 8,
      message: /.+/,
    },
  ])('rejects $name with its line', async ({ yaml, line, message }) => {
    const error = await load(yaml).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_PROFILE_INVALID',
      exitCode: 2,
      location: { file: join(dir, 'profile.yaml'), line },
    });
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    {
      name: 'a stock value (vendorByVersion) with neither source nor illustrative',
      yaml: `${version}  derive:\n    - { fact: a.b, differs: s.x, vendorByVersion: [{ value: x }] }\n`,
      line: 8,
      col: 7,
      path: 'detection.derive[0]',
    },
    {
      name: 'a default with neither',
      yaml: `${version}  derive:\n    - { fact: a.b, from: s.x, default: 1 }\n`,
      line: 8,
      col: 7,
      path: 'detection.derive[0]',
    },
    {
      name: 'settings defaults with neither',
      yaml: `${version}  settings:\n    - { file: a.properties, format: properties, into: s, defaults: { x: 1 } }\n`,
      line: 8,
      col: 7,
      path: 'detection.settings[0]',
    },
    {
      name: 'illustrative: true without a reason',
      yaml: `${version}  derive:\n    - { fact: a.b, value: 1, illustrative: true }\n`,
      line: 8,
      col: 44,
      path: 'detection.derive[0].illustrative',
    },
    {
      name: 'a source and illustrative together on the version file',
      yaml: "  version: { file: v, pattern: '(?<version>.+)', source: { doc: d, section: s }, illustrative: true, reason: r }\n",
      line: 6,
      col: 96,
      path: 'detection.version.illustrative',
    },
  ])('refuses $name, naming file:line:col', async ({ yaml, line, col, path }) => {
    const error = await load(yaml).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_PROFILE_INVALID',
      exitCode: 2,
      location: { file: join(dir, 'profile.yaml'), line, col, path },
    });
  });

  it('accepts stock values covered by an illustrative detection section', async () => {
    const p = await load(
      `${version}  illustrative: true\n  reason: a test profile\n  derive:\n    - { fact: a.b, from: s.x, default: 1 }\n`,
    );

    expect(p.manifest.detection?.derive).toHaveLength(1);
  });

  it.each([
    ['json', '{ json: package.json, path: version }'],
    ['yaml', "{ yaml: app.yaml, path: app.version, pattern: 'v(?<version>.+)' }"],
    ['xml', "{ xml: pom.xml, xpath: '/project/version/text()' }"],
    [
      'command',
      "{ command: { argv: ['node', 'bin/cli.js', '--version'], cwd: lib, timeoutSeconds: 5 }, pattern: '(?<version>\\S+)' }",
    ],
  ])('reads a %s version source', async (_, source) => {
    const p = await load(`  version: ${source}\n`);

    expect(p.manifest.detection?.version).toBeTruthy();
  });

  it('reads a full section', async () => {
    const section = dedent`
      version: { file: version, pattern: '^(?<version>.+)$' }
      settings:
        - { file: conf/a.properties, format: properties, into: settings, defaults: { x.y: false }, source: { doc: admin.md, section: Settings } }
        - { file: conf/s.xml, format: xml, select: { ports.a: //C/@port, ports.all: { path: //C/@port, all: true } } }
        - { file: .env, format: env, into: env }
        - { file: conf/app.txt, format: regex, pattern: '^(?<key>\\w+)\\s*->\\s*(?<value>.*)$', into: app }
      commands:
        - { fact: runtime.node, command: { argv: ['\${node}', '--version'] }, pattern: 'v(?<value>\\S+)' }
      services: [{ name: server, pidFile: var/run/s.pid }, { pidFile: 'var/run/*.pid' }]
      derive:
        - { fact: database.type, from: settings.db.type, default: sqlite, source: { doc: admin.md, section: Database } }
        - { fact: a.b, differs: settings.x, split: ',', illustrative: true, reason: assumed, vendorByVersion: [{ versions: '>=5.5 GA', value: a, source: { doc: notes.md, section: '5.5' } }, { value: b }] }
        - { fact: a.c, anyOf: [a.b, a.d] }
      data:
        - { fact: data.rows, sqlite: var/db/x.db, queries: ['select 1'], when: { fact: database.type, equals: sqlite } }
        - { fact: cron.jobs, countLines: conf/crontab, skip: '^\\s*(#|$)' }
      vendorManifest: .x/manifest.json
      ignore: [var/**]
      redact: [password]
      platformIds: { linux-x64: linux-amd64 }
    `;

    const p = await load(section.replace(/^/gm, '  '));

    expect(p.manifest.detection?.settings[1]?.select).toStrictEqual({
      'ports.a': '//C/@port',
      'ports.all': { path: '//C/@port', all: true },
    });
    expect(p.manifest.detection?.services).toHaveLength(2);
    expect(p.manifest.detection?.commands[0]?.command).toStrictEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: uplift's placeholder, not a template
      argv: ['${node}', '--version'],
      timeoutSeconds: 10,
    });
  });
});
