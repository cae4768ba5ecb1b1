import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';

/**
 * An input file the user names that is a FIFO (or a device) is refused at once with a coded
 * error naming it: reading a FIFO nobody writes to would wait forever. The CLI runs as a process
 * with a time limit, so a hang fails the test instead of stopping the run.
 */
let d: string;

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'uplift-input-fifo-'));
  cpSync(join(repoRoot, 'profiles/skiff'), join(d, 'prof-skiff'), { recursive: true });
  execFileSync('mkfifo', [join(d, 'fifo.yaml')]);
  mkdirSync(join(d, 'shelf/pf'), { recursive: true });
  execFileSync('mkfifo', [join(d, 'shelf/pf/profile.yaml')]);
});

afterAll(() => rmSync(d, { recursive: true, force: true }));

function uplift(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args, '--json'], {
    cwd: d,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, NO_COLOR: '1', UPLIFT_PROFILE_PATH: '', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const skiff = ['--profile', './prof-skiff', '--facts', 'prof-skiff/sample-facts.yaml'];

describe('an input file that is a FIFO', () => {
  it.each([
    ['--facts', ['plan', '--profile', './prof-skiff', '--from', '5.3.0', '--facts', 'fifo.yaml']],
    ['--checks', ['plan', ...skiff, '--checks', 'fifo.yaml']],
    ['--windows', ['plan', ...skiff, '--windows', 'fifo.yaml']],
  ])('%s is refused at once, naming it (exit 2)', (_, args) => {
    const r = uplift(args);

    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      location: { file: 'fifo.yaml' },
    });
  });

  it('as profile.yaml is refused by plan, and listed by profiles as not loading', () => {
    const plan = uplift(['plan', '--profile', './shelf/pf', '--from', '1.0']);
    const profiles = uplift(['profiles'], { UPLIFT_PROFILE_PATH: join(d, 'shelf') });

    expect(plan.code, plan.stderr).toBe(2);
    expect(JSON.parse(plan.stdout).error).toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      location: { file: join(d, 'shelf/pf/profile.yaml') },
    });
    expect(profiles.code, profiles.stderr).toBe(0);
    expect(
      (JSON.parse(profiles.stdout) as { name: string }[]).find((p) => p.name === 'pf'),
    ).toMatchObject({ error: { code: 'UPLIFT_FILE_UNREADABLE' } });
  });

  it('as apply --plan is refused at once as not a plan, naming it (exit 2)', () => {
    mkdirSync(join(d, 'inst'), { recursive: true });
    writeFileSync(join(d, 'inst/version'), '5.3.0 Patch 1\n');

    const r = uplift(['apply', '--install', 'inst', '--profile', 'skiff', '--plan', 'fifo.yaml']);

    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_APPLY_PLAN_INVALID',
      message: 'fifo.yaml is not a plan: fifo.yaml is a FIFO, not a regular file',
    });
  });

  it('as fetch --plan is refused at once, naming it (exit 2)', () => {
    const r = uplift(['fetch', '--plan', 'fifo.yaml', '--repo', d, '--out', 'packs']);

    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      location: { file: 'fifo.yaml' },
    });
  });
});
