import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { writeReleaseTree } from '../util/pack-assemble.ts';
import { type CliRun, runCliInProcess, runCliProcess } from '../util/run-cli.ts';

/**
 * Issue 11 part 5: no input a user can type reaches "internal error". Every command of
 * src/cli/program.ts is driven with missing folders, missing files, empty files, a folder where a
 * file belongs, a file where a folder belongs, garbage YAML/JSON and non-numbers for numeric
 * options. Each must end with a coded error (exit 1, 2 or 3) that names what it could not use,
 * and every option that writes must create the folders it writes into.
 */
let d: string;
let install: string;
/** A missing path two folders deep. */
let missing: string;
/** An empty regular file. */
let empty: string;
/** A regular file of garbage, neither YAML, JSON, tar, zip nor a pack. */
let garbage: string;
/** A folder holding one file, where a file is expected. */
let folder: string;
let key: string;
let platform: string;

beforeAll(async () => {
  d = mkdtempSync(join(tmpdir(), 'uplift-hostile-'));
  install = (await makeSkiffInstall({ version: '5.4 GA' })).install;
  missing = join(d, 'no-such-folder/deeper/thing');
  empty = join(d, 'empty.yaml');
  writeFileSync(empty, '');
  garbage = join(d, 'garbage.yaml');
  writeFileSync(garbage, '{{{ not: [yaml, "or json\n\u0000\u0001 :::\n');
  folder = join(d, 'a-folder');
  mkdirSync(folder);
  writeFileSync(join(folder, 'inside'), 'x\n');
  key = join(d, 'k');
  expect((await runCliInProcess(['keys', 'generate', '--out', key])).code).toBe(0);
  platform = (
    JSON.parse((await runCliInProcess(['facts', '--install', install, '--json'])).stdout) as {
      platform: { id: string };
    }
  ).platform.id;
  writeReleaseTree(join(d, 'rel-a'), '5.4 GA', { version: '5.4 GA\n', 'lib/a.js': 'a\n' });
  writeReleaseTree(join(d, 'rel-b'), '5.4 Patch 2', {
    version: '5.4 Patch 2\n',
    'lib/a.js': 'b\n',
  });
});

afterAll(cleanUp);

/** Asserts a refusal: a documented exit code and a coded error that names `names`. */
function expectCodedError(r: CliRun, names: string | undefined) {
  // In process, colours follow this process's terminal and CI variables: compared without them.
  const all = stripVTControlCharacters(`${r.stdout}${r.stderr}`);
  expect(all, all).not.toContain('internal error');
  expect([1, 2, 3], all).toContain(r.code);
  expect(all, all).toMatch(/error UPLIFT_[A-Z_]+|error: /);
  if (names !== undefined) expect(all, all).toContain(names);
}

type Case = [label: string, args: () => string[], names: () => string | undefined];

const base = (p: string) => p.split('/').at(-1) ?? p;

/** The hostile cases, by command, as a user can type them. */
const cases: Case[] = [
  // plan
  ['plan --install missing', () => ['plan', '--install', missing], () => base(missing)],
  ['plan --install file', () => ['plan', '--install', empty], () => base(empty)],
  [
    'plan --facts missing',
    () => ['plan', '--profile', 'skiff', '--facts', missing],
    () => base(missing),
  ],
  ['plan --facts empty', () => ['plan', '--profile', 'skiff', '--facts', empty], () => base(empty)],
  [
    'plan --facts garbage',
    () => ['plan', '--profile', 'skiff', '--facts', garbage],
    () => base(garbage),
  ],
  [
    'plan --facts folder',
    () => ['plan', '--profile', 'skiff', '--facts', folder],
    () => base(folder),
  ],
  [
    'plan --profile missing',
    () => ['plan', '--profile', missing, '--from', '5.4 GA'],
    () => base(missing),
  ],
  [
    'plan --profile file',
    () => ['plan', '--profile', empty, '--from', '5.4 GA'],
    () => base(empty),
  ],
  ['plan --from garbage', () => ['plan', '--profile', 'skiff', '--from', '%%%'], () => '%%%'],
  [
    'plan --vendor-manifest garbage',
    () => ['plan', '--install', install, '--vendor-manifest', garbage],
    () => base(garbage),
  ],
  [
    'plan --vendor-manifest folder',
    () => ['plan', '--install', install, '--vendor-manifest', folder],
    () => base(folder),
  ],
  [
    'plan --out into a file',
    () => ['plan', '--profile', 'skiff', '--from', '5.4 GA', '--out', join(empty, 'x.txt')],
    () => base(empty),
  ],
  [
    'plan --out a folder',
    () => ['plan', '--profile', 'skiff', '--from', '5.4 GA', '--out', folder],
    () => base(folder),
  ],
  // paths, notes
  ['paths --install missing', () => ['paths', '--install', missing], () => base(missing)],
  [
    'paths --facts garbage',
    () => ['paths', '--profile', 'skiff', '--facts', garbage],
    () => base(garbage),
  ],
  [
    'notes --facts folder',
    () => ['notes', '--profile', 'skiff', '--from', '5.4 GA', '--facts', folder],
    () => base(folder),
  ],
  ['notes --from garbage', () => ['notes', '--profile', 'skiff', '--from', 'x.y.z'], () => 'x.y.z'],
  // catalog, profiles
  ['catalog validate missing', () => ['catalog', 'validate', missing], () => base(missing)],
  ['catalog validate empty', () => ['catalog', 'validate', empty], () => base(empty)],
  ['catalog validate garbage', () => ['catalog', 'validate', garbage], () => base(garbage)],
  ['catalog validate folder', () => ['catalog', 'validate', folder], () => base(folder)],
  [
    'profile init into a file',
    () => ['profile', 'init', empty, '--install', install],
    () => base(empty),
  ],
  [
    'profile init --install missing',
    () => ['profile', 'init', join(d, 'p1'), '--install', missing],
    () => base(missing),
  ],
  // check, facts
  ['check --install missing', () => ['check', '--install', missing], () => base(missing)],
  ['check --install file', () => ['check', '--install', empty], () => base(empty)],
  [
    'check --facts garbage',
    () => ['check', '--install', install, '--facts', garbage],
    () => base(garbage),
  ],
  [
    'check --fact without =',
    () => ['check', '--install', install, '--fact', 'nonsense'],
    () => 'nonsense',
  ],
  ['facts --install missing', () => ['facts', '--install', missing], () => base(missing)],
  ['facts --install file', () => ['facts', '--install', empty], () => base(empty)],
  [
    'facts --install empty folder',
    () => ['facts', '--install', join(d, 'empty-folder')],
    () => 'empty-folder',
  ],
  [
    'facts --vendor-manifest garbage',
    () => ['facts', '--install', install, '--vendor-manifest', garbage],
    () => base(garbage),
  ],
  [
    'facts --vendor-manifest empty',
    () => ['facts', '--install', install, '--vendor-manifest', empty],
    () => base(empty),
  ],
  // sample
  ['sample --profile missing', () => ['sample', '--profile', missing], () => base(missing)],
  ['sample --dir a file', () => ['sample', '--dir', empty], () => base(empty)],
  // backup, restore
  ['backup --install missing', () => ['backup', '--install', missing], () => base(missing)],
  ['backup --install file', () => ['backup', '--install', empty], () => base(empty)],
  [
    'backup --level abc',
    () => ['backup', '--install', install, '--level', 'abc', '--out', join(d, 'b0.tar.gz')],
    () => 'abc',
  ],
  [
    'backup --out into a file',
    () => ['backup', '--install', install, '--out', join(empty, 'b.tar.gz')],
    () => base(empty),
  ],
  [
    'backup --out a folder',
    () => ['backup', '--install', install, '--out', folder],
    () => base(folder),
  ],
  ['backup --verify missing', () => ['backup', '--verify', missing], () => base(missing)],
  ['backup --verify empty', () => ['backup', '--verify', empty], () => base(empty)],
  ['backup --verify garbage', () => ['backup', '--verify', garbage], () => base(garbage)],
  ['backup --verify folder', () => ['backup', '--verify', folder], () => base(folder)],
  ['restore missing', () => ['restore', missing, '--install', join(d, 'r1')], () => base(missing)],
  ['restore empty', () => ['restore', empty, '--install', join(d, 'r2')], () => base(empty)],
  ['restore garbage', () => ['restore', garbage, '--install', join(d, 'r3')], () => base(garbage)],
  ['restore folder', () => ['restore', folder, '--install', join(d, 'r4')], () => base(folder)],
  // vendor-pack
  [
    'vendor-pack verify missing',
    () => ['vendor-pack', 'verify', missing, '--profile', 'skiff'],
    () => base(missing),
  ],
  [
    'vendor-pack verify empty',
    () => ['vendor-pack', 'verify', empty, '--profile', 'skiff'],
    () => base(empty),
  ],
  [
    'vendor-pack verify folder',
    () => ['vendor-pack', 'verify', folder, '--profile', 'skiff'],
    () => base(folder),
  ],
  [
    'vendor-pack verify --catalog garbage',
    () => ['vendor-pack', 'verify', garbage, '--catalog', garbage],
    () => base(garbage),
  ],
  // repo
  [
    'repo init into a file',
    () => [
      'repo',
      'init',
      empty,
      '--root-key',
      `${key}.key`,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
    ],
    () => base(empty),
  ],
  [
    'repo init --root-key missing',
    () => [
      'repo',
      'init',
      join(d, 'repo1'),
      '--root-key',
      missing,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
    ],
    () => base(missing),
  ],
  [
    'repo init --root-key garbage',
    () => [
      'repo',
      'init',
      join(d, 'repo2'),
      '--root-key',
      garbage,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
    ],
    () => base(garbage),
  ],
  [
    'repo init --root-key empty',
    () => [
      'repo',
      'init',
      join(d, 'repo2b'),
      '--root-key',
      empty,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
    ],
    () => base(empty),
  ],
  [
    'repo init --threshold abc',
    () => [
      'repo',
      'init',
      join(d, 'repo3'),
      '--root-key',
      `${key}.key`,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
      '--threshold',
      'abc',
    ],
    () => 'abc',
  ],
  [
    'repo init --expires abc',
    () => [
      'repo',
      'init',
      join(d, 'repo4'),
      '--root-key',
      `${key}.key`,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
      '--expires',
      'abc',
    ],
    () => 'abc',
  ],
  ['repo add missing repo', () => ['repo', 'add', missing, garbage], () => base(missing)],
  ['repo add into a file', () => ['repo', 'add', empty, garbage], () => base(empty)],
  [
    'repo publish missing',
    () => ['repo', 'publish', missing, '--index-key', `${key}.key`],
    () => base(missing),
  ],
  [
    'repo publish folder without root',
    () => ['repo', 'publish', folder, '--index-key', `${key}.key`],
    () => base(folder),
  ],
  [
    'repo rotate missing',
    () => ['repo', 'rotate', missing, '--sign', `${key}.key`],
    () => base(missing),
  ],
  // fetch
  [
    'fetch --repo missing',
    () => ['fetch', '--repo', missing, '--install', install],
    () => base(missing),
  ],
  [
    'fetch --repo a file',
    () => ['fetch', '--repo', empty, '--install', install],
    () => base(empty),
  ],
  [
    'fetch --plan missing',
    () => ['fetch', '--repo', folder, '--plan', missing],
    () => base(missing),
  ],
  [
    'fetch --plan garbage',
    () => ['fetch', '--repo', folder, '--plan', garbage],
    () => base(garbage),
  ],
  ['fetch --plan empty', () => ['fetch', '--repo', folder, '--plan', empty], () => base(empty)],
  [
    'fetch --root garbage',
    () => ['fetch', '--repo', folder, '--install', install, '--root', garbage],
    () => base(garbage),
  ],
  [
    'fetch --retries abc',
    () => ['fetch', '--repo', folder, '--install', install, '--retries', 'abc'],
    () => 'abc',
  ],
  [
    'fetch --timeout abc',
    () => ['fetch', '--repo', folder, '--install', install, '--timeout', 'abc'],
    () => 'abc',
  ],
  [
    'fetch --min-rate abc',
    () => ['fetch', '--repo', folder, '--install', install, '--min-rate', 'abc'],
    () => 'abc',
  ],
  [
    'fetch --max-expand abc',
    () => ['fetch', '--repo', folder, '--install', install, '--max-expand', 'abc'],
    () => 'abc',
  ],
  [
    'fetch --out a file',
    () => ['fetch', '--repo', folder, '--install', install, '--out', empty],
    () => undefined,
  ],
  // keys
  [
    'keys generate --out under a file',
    () => ['keys', 'generate', '--out', join(empty, 'k')],
    () => base(empty),
  ],
  [
    'keys generate --out a folder',
    () => ['keys', 'generate', '--out', `${folder}/`],
    () => base(folder),
  ],
  // pack
  [
    'pack build --from-tree missing',
    () => [
      'pack',
      'build',
      '--from-tree',
      missing,
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(d, 'p1.upk'),
    ],
    () => base(missing),
  ],
  [
    'pack build --from-tree a file',
    () => [
      'pack',
      'build',
      '--from-tree',
      empty,
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(d, 'p2.upk'),
    ],
    () => base(empty),
  ],
  [
    'pack build --key missing',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      missing,
      '--out',
      join(d, 'p3.upk'),
    ],
    () => base(missing),
  ],
  [
    'pack build --key garbage',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      garbage,
      '--out',
      join(d, 'p4.upk'),
    ],
    () => base(garbage),
  ],
  [
    'pack build --key a folder',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      folder,
      '--out',
      join(d, 'p5.upk'),
    ],
    () => base(folder),
  ],
  [
    'pack build --migrations garbage',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(d, 'p6.upk'),
      '--migrations',
      garbage,
    ],
    () => base(garbage),
  ],
  [
    'pack build --migrations missing',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(d, 'p7.upk'),
      '--migrations',
      missing,
    ],
    () => base(missing),
  ],
  [
    'pack build --created garbage',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(d, 'p8.upk'),
      '--created',
      'yesterday',
    ],
    () => 'yesterday',
  ],
  [
    'pack build --out into a file',
    () => [
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      join(empty, 'p.upk'),
    ],
    () => base(empty),
  ],
  [
    'pack verify missing',
    () => ['pack', 'verify', missing, '--trust', `${key}.pub`],
    () => base(missing),
  ],
  [
    'pack verify empty',
    () => ['pack', 'verify', empty, '--trust', `${key}.pub`],
    () => base(empty),
  ],
  [
    'pack verify garbage',
    () => ['pack', 'verify', garbage, '--trust', `${key}.pub`],
    () => base(garbage),
  ],
  [
    'pack verify folder',
    () => ['pack', 'verify', folder, '--trust', `${key}.pub`],
    () => base(folder),
  ],
  [
    'pack verify --trust missing',
    () => ['pack', 'verify', garbage, '--trust', missing],
    () => base(missing),
  ],
  [
    'pack verify --trust garbage',
    () => ['pack', 'verify', garbage, '--trust', garbage],
    () => base(garbage),
  ],
  [
    'pack verify --trust empty',
    () => ['pack', 'verify', garbage, '--trust', empty],
    () => base(empty),
  ],
  [
    'pack verify --max-expand abc',
    () => ['pack', 'verify', garbage, '--trust', `${key}.pub`, '--max-expand', 'abc'],
    () => 'abc',
  ],
  ['pack inspect missing', () => ['pack', 'inspect', missing], () => base(missing)],
  ['pack inspect empty', () => ['pack', 'inspect', empty], () => base(empty)],
  ['pack inspect garbage', () => ['pack', 'inspect', garbage], () => base(garbage)],
  ['pack inspect folder', () => ['pack', 'inspect', folder], () => base(folder)],
  // release-tree
  [
    'release-tree make missing',
    () => [
      'release-tree',
      'make',
      missing,
      '--product',
      'skiff',
      '--version',
      '5.4 GA',
      '--out',
      join(d, 'rt1'),
    ],
    () => base(missing),
  ],
  [
    'release-tree make a file',
    () => [
      'release-tree',
      'make',
      empty,
      '--product',
      'skiff',
      '--version',
      '5.4 GA',
      '--out',
      join(d, 'rt2'),
    ],
    () => base(empty),
  ],
  [
    'release-tree make --out a file',
    () => [
      'release-tree',
      'make',
      folder,
      '--product',
      'skiff',
      '--version',
      '5.4 GA',
      '--out',
      empty,
    ],
    () => base(empty),
  ],
  // apply, resume, status, rollback, history
  [
    'apply --install missing',
    () => ['apply', '--install', missing, '--to', 'latest', '--yes'],
    () => base(missing),
  ],
  [
    'apply --install file',
    () => ['apply', '--install', empty, '--to', 'latest', '--yes'],
    () => base(empty),
  ],
  [
    'apply --plan missing',
    () => ['apply', '--install', install, '--plan', missing, '--yes'],
    () => base(missing),
  ],
  [
    'apply --plan garbage',
    () => ['apply', '--install', install, '--plan', garbage, '--yes'],
    () => base(garbage),
  ],
  [
    'apply --plan empty',
    () => ['apply', '--install', install, '--plan', empty, '--yes'],
    () => base(empty),
  ],
  [
    'apply --plan folder',
    () => ['apply', '--install', install, '--plan', folder, '--yes'],
    () => base(folder),
  ],
  [
    'apply --facts garbage',
    () => ['apply', '--install', install, '--to', 'latest', '--facts', garbage, '--yes'],
    () => base(garbage),
  ],
  [
    'apply --packs missing',
    () => [
      'apply',
      '--install',
      install,
      '--to',
      'latest',
      '--packs',
      missing,
      '--trust',
      `${key}.pub`,
      '--yes',
      '--accept-risk',
      'test',
    ],
    () => undefined,
  ],
  [
    'apply --trust garbage',
    () => [
      'apply',
      '--install',
      install,
      '--to',
      'latest',
      '--packs',
      folder,
      '--trust',
      garbage,
      '--yes',
      '--accept-risk',
      'test',
    ],
    () => undefined,
  ],
  [
    'apply --keep-runs abc',
    () => ['apply', '--install', install, '--to', 'latest', '--keep-runs', 'abc', '--yes'],
    () => 'abc',
  ],
  [
    'apply --max-expand abc',
    () => [
      'apply',
      '--install',
      install,
      '--to',
      'latest',
      '--max-expand',
      'abc',
      '--yes',
      '--accept-risk',
      'test',
    ],
    () => 'abc',
  ],
  [
    'apply --base-tree a file',
    () => [
      'apply',
      '--install',
      install,
      '--to',
      'latest',
      '--base-tree',
      empty,
      '--packs',
      folder,
      '--trust',
      `${key}.pub`,
      '--yes',
      '--accept-risk',
      'test',
    ],
    () => undefined,
  ],
  ['resume --install missing', () => ['resume', '--install', missing], () => base(missing)],
  ['resume --install file', () => ['resume', '--install', empty], () => base(empty)],
  ['status --install missing', () => ['status', '--install', missing], () => base(missing)],
  ['status --install file', () => ['status', '--install', empty], () => base(empty)],
  ['rollback --install missing', () => ['rollback', '--install', missing], () => base(missing)],
  ['rollback --install file', () => ['rollback', '--install', empty], () => base(empty)],
  ['rollback with nothing to roll back', () => ['rollback', '--install', install], () => undefined],
  ['history --install missing', () => ['history', '--install', missing], () => base(missing)],
  ['history --install file', () => ['history', '--install', empty], () => base(empty)],
];

describe('no input a user can type reaches "internal error"', () => {
  beforeAll(() => {
    mkdirSync(join(d, 'empty-folder'), { recursive: true });
  });

  it.each(cases)('%s', async (_label, args, names) => {
    const r = await runCliInProcess(args());

    expectCodedError(r, names());
  });
});

describe('every option that writes creates the folders it writes into', () => {
  it('keys generate --out into a missing folder (the issue: it printed "internal error")', () => {
    const out = join(d, 'new-keys/release');

    const r = runCliProcess(['keys', 'generate', '--out', out]);

    expect(r.code, r.stderr).toBe(0);
    expect(statSync(`${out}.key`).mode & 0o777).toBe(0o600);
    expect(existsSync(`${out}.pub`)).toBe(true);
  });

  it.each<[string, (out: string) => string[], string]>([
    [
      'plan --out',
      (o) => ['plan', '--profile', 'skiff', '--from', '5.4 GA', '--out', o],
      'plan.txt',
    ],
    [
      'plan --report',
      (o) => ['plan', '--profile', 'skiff', '--from', '5.4 GA', '--report', o],
      'plan.md',
    ],
    ['backup --out', (o) => ['backup', '--install', install, '--out', o], 'b.tar.gz'],
    [
      'pack build --out',
      (o) => [
        'pack',
        'build',
        '--from-tree',
        join(d, 'rel-a'),
        '--to-tree',
        join(d, 'rel-b'),
        '--platform',
        platform,
        '--key',
        `${key}.key`,
        '--out',
        o,
      ],
      'p.upk',
    ],
    [
      'release-tree make --out',
      (o) => [
        'release-tree',
        'make',
        join(d, 'rel-b/tree'),
        '--product',
        'skiff',
        '--version',
        '5.4 Patch 2',
        '--out',
        o,
      ],
      'rt',
    ],
    ['profile init', (o) => ['profile', 'init', o, '--install', install], 'profile'],
  ])('%s', async (label, args, name) => {
    const out = join(d, 'made', label.replaceAll(' ', '-'), 'a/b', name);

    const r = await runCliInProcess(args(out));

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('pack verify --stage into a missing folder', async () => {
    const pack = join(d, 'stage-me.upk');
    const built = await runCliInProcess([
      'pack',
      'build',
      '--from-tree',
      join(d, 'rel-a'),
      '--to-tree',
      join(d, 'rel-b'),
      '--platform',
      platform,
      '--key',
      `${key}.key`,
      '--out',
      pack,
    ]);
    const stage = join(d, 'made/stage/a/b/staged');

    const r = await runCliInProcess([
      'pack',
      'verify',
      pack,
      '--trust',
      `${key}.pub`,
      '--stage',
      stage,
    ]);

    expect(built.code, built.stderr).toBe(0);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(existsSync(join(stage, 'lib/a.js'))).toBe(true);
  });

  it('repo init into a missing folder', async () => {
    const repo = join(d, 'made/repo/a/b/repo');

    const r = await runCliInProcess([
      'repo',
      'init',
      repo,
      '--root-key',
      `${key}.key`,
      '--index-key',
      `${key}.key`,
      '--pack-key',
      `${key}.pub`,
    ]);

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(existsSync(join(repo, 'root.json'))).toBe(true);
  });
});

describe('a missing pack says how to get it (issue 11, "Why")', () => {
  const errorOf = (r: CliRun) =>
    (JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } }).error;

  it('an uplift pack names uplift fetch, not "check the path", with or without trust', async () => {
    const file = join(d, 'skiff-5.5 GA-from-5.4 GA_linux-x86-64.upk');

    const bare = await runCliInProcess(['pack', 'verify', file, '--json']);
    const trusted = await runCliInProcess([
      'pack',
      'verify',
      file,
      '--trust',
      `${key}.pub`,
      '--json',
    ]);

    for (const r of [bare, trusted]) {
      expect(r.code).toBe(2);
      expect(errorOf(r)).toMatchObject({ code: 'UPLIFT_FILE_NOT_FOUND' });
      expect(errorOf(r).message).toContain(file);
      expect(errorOf(r).hint).toContain('uplift fetch');
    }
  });

  it("a vendor's zip is not found (naming it and where to get it), not a trust problem", async () => {
    const file = join(d, 'Skiff_5.5_GA-from-5.4_linux-x86-64_BN100.zip');

    const r = await runCliInProcess(['pack', 'verify', file, '--json']);

    expect(r.code).toBe(2);
    expect(errorOf(r)).toMatchObject({ code: 'UPLIFT_FILE_NOT_FOUND' });
    expect(errorOf(r).message).toContain(file);
    expect(errorOf(r).hint).toContain("vendor's download site");
  });
});

describe('an empty path (an unset shell variable) is refused, never taken as the working folder', () => {
  it.each([
    ['restore --install', () => ['restore', join(d, 'b.tar.gz'), '--install', ''], '--install'],
    ['backup --install', () => ['backup', '--install', '', '--out', join(d, 'b.tgz')], '--install'],
    [
      'release-tree make <dir>',
      () => [
        'release-tree',
        'make',
        '',
        '--product',
        'skiff',
        '--version',
        '5.4 GA',
        '--out',
        join(d, 'rt'),
      ],
      '<dir>',
    ],
    ['pack verify --stage', () => ['pack', 'verify', garbage, '--stage', ''], '--stage'],
    ['plan --fact (repeatable)', () => ['plan', '--install', install, '--fact', ''], '--fact'],
  ])('%s', async (_label, args, names) => {
    const cwd = mkdtempSync(join(tmpdir(), 'uplift-empty-cwd-'));
    writeFileSync(join(cwd, 'keep'), 'keep\n');
    const was = process.cwd();
    process.chdir(cwd);
    try {
      const r = await runCliInProcess([...args(), '--json']);

      expect(r.code, r.stderr).toBe(2);
      const error = JSON.parse(r.stdout).error as { code: string; message: string };
      expect(error).toMatchObject({ code: 'UPLIFT_USAGE', unchanged: true });
      expect(error.message).toBe(
        `${names.startsWith('<') ? `the argument ${names}` : names} is empty`,
      );
      expect(readdirSync(cwd)).toEqual(['keep']);
      expect(existsSync(join(d, 'b.tgz'))).toBe(false);
    } finally {
      process.chdir(was);
    }
  });
});

describe('a report or --out path uplift cannot write as a file', () => {
  it('a FIFO or a device is refused and left as it is (the rename would replace it)', async () => {
    const fifo = join(d, 'report-fifo');
    execFileSync('mkfifo', [fifo]);

    for (const args of [
      ['plan', '--install', install, '--to', 'latest', '--report', fifo],
      ['plan', '--install', install, '--to', 'latest', '--report', '/dev/full'],
      ['plan', '--install', install, '--to', 'latest', '--out', fifo],
    ]) {
      const r = await runCliInProcess([...args, '--json']);

      expect(r.code, r.stdout).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'UPLIFT_PATH_UNWRITABLE' });
    }
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('--out under a file is a coded error in JSON, not an internal error', async () => {
    const r = await runCliInProcess([
      'plan',
      '--install',
      install,
      '--to',
      'latest',
      '--json',
      '--out',
      join(empty, 'x.json'),
    ]);

    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('internal error');
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_PATH_UNWRITABLE',
      unchanged: true,
    });
  });
});
