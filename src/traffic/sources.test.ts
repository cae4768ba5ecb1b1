import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { builtInProfilesDir, loadProfile, readProfileManifest } from '../profile/index.ts';
import { readTrafficProfile, rotationOrder, slotOf, trafficSourcesOf } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-traffic-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a built-in profile's folder whose profile.yaml ends with `extra` instead of its traffic section. */
function profileWith(name: string, base: string, extra: string): string {
  const p = join(dir, name);
  cpSync(join(builtInProfilesDir, base), p, { recursive: true });
  const yaml = readFileSync(join(p, 'profile.yaml'), 'utf8').replace(/\ntraffic:[\s\S]*$/, '\n');
  writeFileSync(join(p, 'profile.yaml'), `${yaml}${extra}`);
  return p;
}

const line = (ctime: string, account: string, bytes = 100) =>
  `${ctime} 1 127.0.0.1 ${bytes} /in/x.csv b _ i r ${account} http 0 * c\n`;

describe('a profile declares its transfer logs', () => {
  it("finds skiff's xferlog and its rotated files, oldest first", async () => {
    const install = join(dir, 'install');
    mkdirSync(join(install, 'var/log'), { recursive: true });
    writeFileSync(
      join(install, 'var/log/xferlog.2.gz'),
      gzipSync(line('Mon Nov  2 08:00:00 2026', 'a')),
    );
    writeFileSync(join(install, 'var/log/xferlog.1'), line('Mon Nov  9 08:00:00 2026', 'b'));
    writeFileSync(join(install, 'var/log/xferlog'), line('Mon Nov 16 08:00:00 2026', 'c'));
    const profile = await loadProfile('skiff');

    const sources = await trafficSourcesOf(profile, install);
    const p = await readTrafficProfile(sources, { zone: 'UTC' });

    expect(profile.manifest.traffic).toMatchObject({
      logs: ['var/log/xferlog*'],
      format: 'xferlog',
    });
    expect(sources.map((s) => s.file)).toEqual(
      ['xferlog.2.gz', 'xferlog.1', 'xferlog'].map((n) => join(install, 'var/log', n)),
    );
    expect(p.records).toBe(3);
    expect(p.slots[32]).toEqual({ transfers: 3, bytes: 300, accounts: 3 });
    expect(p.weeksCovered[32]).toBe(3);
  });

  it('orders rotated names oldest first', () => {
    expect(rotationOrder(['x', 'x.1', 'x.10.gz', 'x.2.gz', 'x-20261101', 'x-20261018'])).toEqual([
      'x-20261018',
      'x-20261101',
      'x.10.gz',
      'x.2.gz',
      'x.1',
      'x',
    ]);
  });

  it('says when no declared log exists, and when a profile declares none', async () => {
    const skiff = await loadProfile('skiff');
    const other = {
      dir: join(builtInProfilesDir, 'verdaccio'),
      manifest: await readProfileManifest(join(builtInProfilesDir, 'verdaccio')),
    };

    await expect(trafficSourcesOf(skiff, join(dir, 'empty'))).rejects.toMatchObject({
      code: 'UPLIFT_TRAFFIC_LOG_MISSING',
    });
    await expect(trafficSourcesOf(other, join(dir, 'empty'))).rejects.toMatchObject({
      code: 'UPLIFT_TRAFFIC_NOT_DECLARED',
      location: { path: 'traffic' },
    });
  });

  it.each([
    ['an unknown format', 'traffic:\n  logs: [a.log]\n  format: xfer\n', 'traffic.format'],
    [
      'a jsonl log without fields',
      'traffic:\n  logs: [a.log]\n  format: jsonl\n',
      'traffic.fields',
    ],
    [
      'a zone that is not IANA',
      'traffic:\n  logs: [a.log]\n  format: xferlog\n  zone: Europe/Atlantis\n',
      'traffic.zone',
    ],
    [
      'an unknown field',
      'traffic:\n  logs: [a.log]\n  format: xferlog\n  rotate: true\n',
      'traffic',
    ],
  ])('refuses %s at its file, line and column', async (name, extra, path) => {
    const p = profileWith(`bad-${name.replace(/ /g, '-')}`, 'skiff', extra);
    const lines = readFileSync(join(p, 'profile.yaml'), 'utf8').split('\n');
    const trafficLine = lines.indexOf('traffic:') + 1;

    const error = await readProfileManifest(p).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_PROFILE_INVALID',
      location: { file: join(p, 'profile.yaml'), path: expect.stringContaining(path) },
    });
    const at = (error as { location: { line: number; col: number } }).location;
    expect(at.line).toBeGreaterThanOrEqual(trafficLine);
    expect(at.col).toBeGreaterThan(0);
  });

  it('reads a JSON-lines export through a declared field mapping, local ISO times in its zone', async () => {
    const p = profileWith(
      'jsonl',
      'skiff',
      [
        'traffic:',
        '  logs: [logs/transfers.jsonl]',
        '  format: jsonl',
        '  zone: America/New_York',
        '  fields: { at: finished, account: user.name, bytes: size, direction: dir, completed: outcome }',
        '  values: { in: [upload], completed: [ok] }',
        '',
      ].join('\n'),
    );
    const install = join(dir, 'jsonl-install');
    mkdirSync(join(install, 'logs'), { recursive: true });
    const rows = [
      {
        finished: '2026-11-02T09:00:10',
        user: { name: 'a' },
        size: 10,
        dir: 'upload',
        outcome: 'ok',
      },
      {
        finished: '2026-11-02T14:00:10Z',
        user: { name: 'b' },
        size: 20,
        dir: 'download',
        outcome: 'failed',
      },
      { finished: 'yesterday', user: { name: 'c' }, size: 30 },
    ];
    writeFileSync(
      join(install, 'logs/transfers.jsonl'),
      rows.map((r) => JSON.stringify(r)).join('\n'),
    );

    const sources = await trafficSourcesOf(
      { dir: p, manifest: await readProfileManifest(p) },
      install,
    );
    const profile = await readTrafficProfile(sources);

    // 09:00:10 in New York (EST, -5) and 14:00:10 UTC are the same instant.
    const slot = slotOf(Date.parse('2026-11-02T14:00:10Z'));
    expect(profile.records).toBe(2);
    expect(profile.slots[slot]).toEqual({ transfers: 2, bytes: 30, accounts: 2 });
    expect(profile.skipped.examples).toEqual([
      {
        file: join(install, 'logs/transfers.jsonl'),
        line: 3,
        reason: 'finished is not a time written as iso',
      },
    ]);
  });

  it('reads a CSV export with a header line and epoch-second times', async () => {
    const p = profileWith(
      'csv',
      'skiff',
      [
        'traffic:',
        '  logs: [export.csv]',
        '  format: csv',
        '  delimiter: ";"',
        '  time: epoch-s',
        '  fields: { at: end, account: account, bytes: bytes }',
        '',
      ].join('\n'),
    );
    const install = join(dir, 'csv-install');
    mkdirSync(install, { recursive: true });
    const at = Date.parse('2026-11-04T13:37:00Z') / 1000;
    writeFileSync(
      join(install, 'export.csv'),
      `account;end;bytes\n"acme; payroll";${at};5\nglobex;${at + 1};7\r\nglobex;${at + 2};1\n`,
    );

    const sources = await trafficSourcesOf(
      { dir: p, manifest: await readProfileManifest(p) },
      install,
    );
    const profile = await readTrafficProfile(sources);

    expect(profile.records).toBe(3);
    expect(profile.slots[slotOf(at * 1000)]).toEqual({ transfers: 3, bytes: 13, accounts: 2 });
    expect(profile.skipped.count).toBe(0);
  });
});
