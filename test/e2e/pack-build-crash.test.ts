import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReleaseTree } from '../util/pack-assemble.ts';
import { faultsCliPath, runCliProcess } from '../util/run-cli.ts';

/**
 * `uplift pack build` killed with SIGKILL at each of its crash points, over an earlier pack at
 * --out: the pack there is always whole (the old one, or the new one once renamed), never a mix;
 * the killed build's temp file is the only thing left, and the next build removes it.
 */
let d: string;
let a: string;
let b: string;
const platform = 'linux-x86-64';

const buildArgs = (out: string, build: string) => [
  'pack',
  'build',
  '--from-tree',
  a,
  '--to-tree',
  b,
  '--platform',
  platform,
  '--key',
  join(d, 'k.key'),
  '--out',
  out,
  '--build',
  build,
  '--workers',
  '2',
];

function buildWithCrash(out: string, build: string, crashAt: string) {
  const r = spawnSync(process.execPath, [faultsCliPath, ...buildArgs(out, build)], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', UPLIFT_TEST_CRASH_AT: crashAt },
  });
  return { signal: r.signal, stderr: r.stderr };
}

const verified = (file: string) =>
  JSON.parse(
    runCliProcess(['pack', 'verify', file, '--trust', join(d, 'k.pub'), '--json']).stdout,
  ) as { verified?: boolean; manifest?: { build: string } };

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'uplift-pack-crash-'));
  expect(runCliProcess(['keys', 'generate', '--out', join(d, 'k')]).code).toBe(0);
  a = writeReleaseTree(join(d, 'a'), '5.4 GA', { 'conf/app.conf': 'port=1\n' });
  // 24 MiB of incompressible files: six frames, so the crash in the payload comes after some of
  // them are written and flushed.
  const files: Record<string, Buffer | string> = { 'conf/app.conf': 'port=2\n' };
  for (let i = 0; i < 24; i++)
    files[`lib/blob-${String(i).padStart(2, '0')}.jar`] = randomBytes(1 << 20);
  b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', files);
});

describe('uplift pack build killed with SIGKILL', () => {
  it.each([
    ['pack-build:payload', 'old'],
    ['pack-build:head', 'old'],
    ['pack-build:synced', 'old'],
    ['pack-build:renamed', 'new'],
  ] as const)(
    'at %s leaves the %s pack whole at --out, and the next build removes what it left',
    (crashAt, left) => {
      const dir = mkdtempSync(join(d, 'out-'));
      const out = join(dir, 'p.upk');
      expect(runCliProcess(buildArgs(out, '1')).code).toBe(0);
      const old = readFileSync(out);

      const killed = buildWithCrash(out, '2', crashAt);

      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const after = verified(out);
      expect(after.verified).toBe(true);
      expect(after.manifest?.build).toBe(left === 'old' ? '1' : '2');
      if (left === 'old') expect(readFileSync(out).equals(old)).toBe(true);
      const temps = readdirSync(dir).filter((n) => n.includes('.tmp-'));
      expect(temps).toHaveLength(left === 'old' ? 1 : 0);

      // A build in the same place later: the dead build's temp file goes, the new pack is whole.
      writeFileSync(join(dir, '.p.upk.tmp-notapid'), 'someone else’s');
      expect(runCliProcess(buildArgs(out, '3')).code).toBe(0);
      expect(verified(out).manifest?.build).toBe('3');
      expect(readdirSync(dir).sort()).toEqual(['.p.upk.tmp-notapid', 'p.upk']);
    },
  );
});
