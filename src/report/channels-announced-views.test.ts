import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../test/util/run-cli.ts';

/*
 * Every plan view (text, Markdown, JSON) of a catalog with channels and announced releases
 * (docs/catalog.md, "channels" and "announced releases"): 1.2 GA is in the fast channel only, and
 * 1.3 GA (expected 2031-03-01) and 1.4 GA (no date) are announced, in every channel.
 */
const pack = (file: string) => `packs: [{ platform: linux-x86-64, file: ${file}, size: 1000 }]`;
const catalog = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  illustrative: true
  reason: a catalog written for a test
  channels:
    - { id: stable, default: true }
    - { id: fast }
  releases:
    - { version: 1.0 GA, kind: ga, ${pack('a.upk')} }
    - { version: 1.1 GA, kind: ga, channels: [stable, fast], ${pack('b.upk')} }
    - { version: 1.2 GA, kind: ga, channels: [fast], ${pack('c.upk')} }
    - { version: 1.3 GA, kind: ga, announced: true, date: 2031-03-01 }
    - { version: 1.4 GA, kind: ga, announced: true }
  upgrade: {}
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 20 }
    validate: { seconds: 60 }
    rollback: { seconds: 120 }
`;

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'uplift-views-'));
  mkdirSync(join(root, 'demo'));
  writeFileSync(
    join(root, 'demo/profile.yaml'),
    'profile: 1\nname: demo\ntitle: Demo\ncatalog: catalog.yaml\n',
  );
  writeFileSync(join(root, 'demo/catalog.yaml'), `${catalog}\n`);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The plan of 1.0 GA → latest in one format; text flattened (colours and wrapping off). */
async function view(format: 'text' | 'markdown' | 'json', ...more: string[]) {
  const r = await runCliInProcess([
    'plan',
    '--profile',
    join(root, 'demo'),
    '--from',
    '1.0 GA',
    '--fact',
    'platform.id=linux-x86-64',
    '--format',
    format,
    ...more,
  ]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return format === 'text'
    ? stripVTControlCharacters(r.stdout).replace(/\s+/g, ' ')
    : format === 'markdown'
      ? r.stdout
      : JSON.parse(r.stdout);
}

const announcedLine = 'Announced, not yet available: 1.3 GA (expected 2031-03-01), 1.4 GA';

describe('announced releases in every plan view', () => {
  it('text: the line after the path, latest is the newest published release', async () => {
    const text = await view('text');

    expect(text).toContain(announcedLine);
    expect(text).toMatch(/1\.0 GA → 1\.1 GA/);
  });

  it('Markdown: its own line', async () => {
    const md = await view('markdown');

    expect(md.split('\n')).toContain(announcedLine);
  });

  it('JSON: announced, with the expected date where the catalog gives one', async () => {
    const plan = await view('json');

    expect(plan.to).toBe('1.1 GA');
    expect(plan.announced).toEqual([
      { version: '1.3 GA', date: '2031-03-01' },
      { version: '1.4 GA' },
    ]);
  });

  it('are shown in each channel that carries them (here every one)', async () => {
    const plan = await view('json', '--channel', 'fast');

    expect(plan.to).toBe('1.2 GA');
    expect(plan.announced.map((a: { version: string }) => a.version)).toEqual(['1.3 GA', '1.4 GA']);
  });
});

describe('channels in every plan view: --channel picks another target', () => {
  it.each`
    channel      | target      | shown
    ${undefined} | ${'1.1 GA'} | ${'stable'}
    ${'stable'}  | ${'1.1 GA'} | ${'stable'}
    ${'fast'}    | ${'1.2 GA'} | ${'fast'}
  `(
    '--channel $channel: $target, named in text, Markdown and JSON',
    async ({ channel, target, shown }) => {
      const more = channel ? ['--channel', channel] : [];

      const [text, md, plan] = [
        await view('text', ...more),
        await view('markdown', ...more),
        await view('json', ...more),
      ];

      expect(plan.to).toBe(target);
      expect(plan.channel).toBe(shown);
      expect(plan.steps.map((s: { to: string }) => s.to)).toEqual([target]);
      expect(text).toContain(`Channel: ${shown}`);
      expect(text).toContain(`1.0 GA → ${target}`);
      expect(md.split('\n')).toContain(`Channel: \`${shown}\``);
      expect(md).toContain(target);
    },
  );

  it('a catalog without channels shows no channel in any view', async () => {
    const plain = join(root, 'plain');
    mkdirSync(plain, { recursive: true });
    writeFileSync(
      join(plain, 'profile.yaml'),
      'profile: 1\nname: plain\ntitle: Plain\ncatalog: catalog.yaml\n',
    );
    writeFileSync(
      join(plain, 'catalog.yaml'),
      `${catalog.replace(/^channels:\n(?: {2}- .*\n)+/m, '').replace(/, channels: \[[a-z, ]+\]/g, '')}\n`,
    );
    const args = [
      'plan',
      '--profile',
      plain,
      '--from',
      '1.0 GA',
      '--fact',
      'platform.id=linux-x86-64',
    ];

    const text = await runCliInProcess([...args, '--format', 'text']);
    const md = await runCliInProcess([...args, '--format', 'markdown']);
    const json = await runCliInProcess([...args, '--format', 'json']);

    expect(text.stdout).not.toContain('Channel:');
    expect(md.stdout).not.toContain('Channel:');
    expect(JSON.parse(json.stdout).channel).toBeUndefined();
    expect(JSON.parse(json.stdout).to).toBe('1.2 GA');
  });
});
