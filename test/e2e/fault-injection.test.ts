import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepository } from '../../src/repo/index.ts';
import { generateKeyPair } from '../../src/signing/index.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { cliPath, faultsCliPath, repoRoot } from '../util/run-cli.ts';

/**
 * UPLIFT_TEST_NOW and UPLIFT_TEST_CRASH_AT are test hooks: only the test-only entry
 * (test/util/cli-with-faults.mjs) reads them. In the environment of the real CLI they must change
 * nothing, or any operator's shell could turn the expiry check off or kill a run half-way. Each
 * case runs both entries with the same environment: the test-only one shows the hook would bite.
 */

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-faults-'));
});

afterAll(async () => {
  await cleanUp();
  await rm(work, { recursive: true, force: true });
});

function run(entry: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [entry, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  let json: { error?: { code?: string } } = {};
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // Not JSON: the assertions on json then fail with the output in view.
  }
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

describe('the real CLI ignores the test hooks in its environment', () => {
  it('refuses expired repository metadata with UPLIFT_TEST_NOW set to a time before it expired', async () => {
    const repo = join(work, 'repo');
    const keys = { root: generateKeyPair(), index: generateKeyPair(), packs: generateKeyPair() };
    const expired = new Date('2001-06-01T00:00:00Z');
    await initRepository({
      dir: repo,
      rootKeys: [keys.root.privateKey],
      threshold: 1,
      indexKeys: [keys.index.privateKey],
      indexThreshold: 1,
      packKeys: [keys.packs.publicKey],
      rootExpires: expired,
      indexExpires: expired,
    });
    const { install } = await makeSkiffInstall({ version: '5.5 GA' });
    const fetch = (entry: string, name: string) =>
      run(
        entry,
        ['fetch', '--install', install, '--repo', repo, '--root', join(repo, 'root.json')].concat([
          '--out',
          join(work, `${name}-packs`),
          '--json',
        ]),
        {
          UPLIFT_STATE_DIR: join(work, `${name}-state`),
          UPLIFT_TEST_NOW: '2001-01-01T00:00:00Z',
        },
      );

    const real = fetch(cliPath, 'real');
    const withFaults = fetch(faultsCliPath, 'faults');

    expect(real.json.error?.code, real.stderr).toBe('UPLIFT_REPO_EXPIRED');
    expect(real.code).toBe(3);
    expect(withFaults.json.error?.code, withFaults.stderr).toBeUndefined();
    expect(withFaults.code).toBe(0);
  });

  it('does not die at the crash point UPLIFT_TEST_CRASH_AT names', async () => {
    const { root, install } = await makeSkiffInstall();
    const backup = (entry: string, name: string) =>
      run(entry, ['backup', '--install', install, '--out', join(root, name), '--json'], {
        UPLIFT_TEST_CRASH_AT: 'backup-before-rename',
      });

    const real = backup(cliPath, 'real.tar.gz');
    const withFaults = backup(faultsCliPath, 'faults.tar.gz');

    expect(real.signal, real.stderr).toBeNull();
    expect(real.code, real.stderr).toBe(0);
    expect(await readdir(root)).toContain('real.tar.gz');
    expect(withFaults.signal).toBe('SIGKILL');
    expect(await readdir(root)).not.toContain('faults.tar.gz');
  });
});
