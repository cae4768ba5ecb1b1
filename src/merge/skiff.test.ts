import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { getProperties } from 'properties-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReleaseTree } from '../../products/skiff/src/index.ts';
import { type FileMerge, mergeFile, unifiedDiff } from './index.ts';

/**
 * Real skiff configuration: the 5.4 Patch 2 tree as a customer edited it, merged file by file
 * with the 5.5 GA tree, the way the apply engine stages a hop.
 */

let work: string;
let oldTree: string;
let newTree: string;
const edited = new Map<string, string>();
const merges = new Map<string, FileMerge>();

function files(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(root, join(dir, e.name)) : [relative(root, join(dir, e.name))],
  );
}

const read = (root: string, path: string) =>
  existsSync(join(root, path)) ? readFileSync(join(root, path)) : null;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'uplift-merge-skiff-'));
  oldTree = buildReleaseTree('5.4 Patch 2', work).tree;
  newTree = buildReleaseTree('5.5 GA', work).tree;
  const customer = (path: string, edit: (text: string) => string) =>
    edited.set(path, edit(readFileSync(join(oldTree, path), 'utf8')));
  // The edits customers make (products/skiff/layout.md): heap and port, an explicit TLS
  // policy, a proxy, cron jobs.
  customer('conf/start-script.conf', (t) =>
    t
      .replace('HEAP_MB=512', '# raised for large transfers (CHG-4711)\nHEAP_MB=2048')
      .replace('HTTP_PORT=\n', 'HTTP_PORT=8443\n'),
  );
  customer('conf/security.properties', (t) =>
    t
      .replace('#tls.protocols=', 'tls.protocols=TLSv1.2\n#tls.protocols=')
      .replace('#tls.ciphers=', 'tls.ciphers=ECDHE-RSA-AES256-GCM-SHA384\n#tls.ciphers='),
  );
  customer('conf/skiff.properties', (t) =>
    t
      .replace('proxy.host=\n', 'proxy.host=proxy.example.com\n')
      .replace('proxy.port=\n', 'proxy.port=3128\n'),
  );
  customer('conf/crontab', (t) => `${t}15 2 * * * /opt/skiff/bin/skiff-purge --days 30\n`);
  for (const path of new Set([...files(oldTree), ...files(newTree)])) {
    const ours = edited.has(path) ? Buffer.from(edited.get(path) as string) : read(oldTree, path);
    merges.set(
      path,
      mergeFile({ path, base: read(oldTree, path), ours, theirs: read(newTree, path) }),
    );
  }
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** conf_value of `tree`'s own bin/start_all, run by sh over `conf` as conf/start-script.conf. */
function confValues(tree: string, conf: Buffer): (key: string) => string {
  const dir = mkdtempSync(join(work, 'installed-'));
  execFileSync('mkdir', ['-p', join(dir, 'conf')]);
  writeFileSync(join(dir, 'conf/start-script.conf'), conf);
  const startAll = readFileSync(join(tree, 'bin/start_all'), 'utf8');
  const fn = /conf_value\(\) \{[\s\S]*?\n\}/.exec(startAll)?.[0];
  if (!fn) throw new Error('bin/start_all has no conf_value');
  return (key) =>
    execFileSync('sh', ['-c', `${fn}\ncd "$1" && conf_value ${key}`, 'sh', dir], {
      encoding: 'utf8',
    }).trim();
}

describe('skiff 5.3.6 GA -> 5.4 GA: start-script.conf gains the scheduler heap', () => {
  it("merges the new key in and keeps the customer's heap, port and comment", () => {
    const from = buildReleaseTree('5.3.6 GA', work).tree;
    const to = buildReleaseTree('5.4 GA', work).tree;
    const path = 'conf/start-script.conf';
    const base = read(from, path) as Buffer;
    const ours = Buffer.from(
      base
        .toString()
        .replace('HEAP_MB=512', '# raised for large transfers (CHG-4711)\nHEAP_MB=2048')
        .replace('HTTP_PORT=\n', 'HTTP_PORT=8443\n'),
    );
    const m = mergeFile({ path, base, ours, theirs: read(to, path) });
    expect(m.outcome).toBe('merged');
    const value = confValues(to, m.content as Buffer);
    expect([value('HEAP_MB'), value('HTTP_PORT'), value('SCHEDULER_HEAP_MB')]).toEqual([
      '2048',
      '8443',
      '256',
    ]);
    const text = m.content?.toString() ?? '';
    expect(text).toContain('# raised for large transfers (CHG-4711)\nHEAP_MB=2048\n');
    expect(text).toContain('# Heap of the scheduler process, in MB.\nSCHEDULER_HEAP_MB=256\n');
    // Staging again from the merged file changes nothing (C.7.9).
    const again = mergeFile({ path, base, ours: m.content as Buffer, theirs: read(to, path) });
    expect(again.outcome).toBe('keep-ours');
  });
});

describe('skiff 5.4 Patch 2 -> 5.5 GA with customer edits', () => {
  it('every file gets the outcome its history calls for, with no conflict', () => {
    const outcomes = Object.fromEntries([...merges].map(([p, m]) => [p, m.outcome]));
    expect(outcomes).toMatchObject({
      'conf/start-script.conf': 'keep-ours',
      'conf/security.properties': 'keep-ours',
      'conf/skiff.properties': 'merged',
      'conf/crontab': 'orphaned',
      'conf/scheduler.yaml': 'take-theirs',
      version: 'take-theirs',
      'bin/start_all': 'take-theirs',
    });
    expect([...merges.values()].filter((m) => m.outcome === 'conflict')).toEqual([]);
  });

  it("start-script.conf keeps the customer's heap and port, as 5.5's start_all reads them", () => {
    const m = merges.get('conf/start-script.conf') as FileMerge;
    expect(m.format).toBe('properties');
    const value = confValues(newTree, m.content as Buffer);
    expect(value('HEAP_MB')).toBe('2048');
    expect(value('HTTP_PORT')).toBe('8443');
    expect(value('SCHEDULER_HEAP_MB')).toBe('256');
    expect(m.content?.toString()).toContain('CHG-4711');
  });

  it("security.properties keeps the customer's explicit TLS policy over the new defaults", () => {
    const m = merges.get('conf/security.properties') as FileMerge;
    expect(m.content?.equals(Buffer.from(edited.get('conf/security.properties') as string))).toBe(
      true,
    );
    expect(getProperties(m.content as Buffer)).toEqual({
      'tls.protocols': 'TLSv1.2',
      'tls.ciphers': 'ECDHE-RSA-AES256-GCM-SHA384',
    });
    expect(m.notes.join(' ')).toMatch(/comments/);
  });

  it("skiff.properties gains 5.5's new setting and keeps the customer's proxy", () => {
    const m = merges.get('conf/skiff.properties') as FileMerge;
    const values = getProperties(m.content as Buffer);
    const vendor = getProperties(read(newTree, 'conf/skiff.properties') as Buffer);
    expect(values).toEqual({ ...vendor, 'proxy.host': 'proxy.example.com', 'proxy.port': '3128' });
    expect(values['Direct.Connection.When.Proxy.Down']).toBe('false');
    // The vendor's comment for the new key comes with it.
    expect(m.content?.toString()).toMatch(
      /# When the proxy is unreachable, outbound transfers connect directly only if this is true.\nDirect.Connection.When.Proxy.Down=false\n/,
    );
    expect(m.notes).toContain('Direct.Connection.When.Proxy.Down: added by the new version');
    const diff = unifiedDiff(
      'conf/skiff.properties',
      Buffer.from(edited.get('conf/skiff.properties') as string),
      m.content,
    );
    expect(diff).toMatch(/^--- a\/conf\/skiff.properties\n\+\+\+ b\/conf\/skiff.properties\n@@ /);
    expect(diff).toContain('+Direct.Connection.When.Proxy.Down=false');
  });

  it("crontab, dropped by 5.5, is orphaned with the customer's job in it", () => {
    const m = merges.get('conf/crontab') as FileMerge;
    expect(m.content?.toString()).toContain('skiff-purge --days 30');
    expect(m.notes.join(' ')).toContain('conf/crontab.orphaned');
  });
});
