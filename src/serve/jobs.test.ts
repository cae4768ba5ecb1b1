import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RolloutJobs } from './jobs.ts';
import type { RolloutJob } from './schema.ts';

/**
 * The job registry around real child processes that speak `uplift rollout --json`'s protocol (a
 * small script stands in for the rollout, which test/e2e/serve-actions.test.ts runs for real):
 * the outcome, the run id, the kept log, a pause by SIGTERM, a program that cannot start, and one
 * job per environment.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A rollout stand-in: 250 progress lines, then (after `waitMs`, or at SIGTERM) its result. */
const fake = join(dir, 'fake-rollout.mjs');
writeFileSync(
  fake,
  `const waitMs = Number(process.env.FAKE_WAIT_MS ?? 0);
const args = process.argv.slice(2);
for (let i = 1; i <= 250; i++) process.stderr.write('line ' + i + '\\n');
process.stdout.write(JSON.stringify({ type: 'node', step: 'upgrade', state: 'started' }) + '\\n');
const end = (outcome, code) => {
  process.stdout.write(JSON.stringify({ type: 'result', runId: 'run-1', outcome, args }) + '\\n');
  process.exitCode = code;
  clearTimeout(t);
};
process.once('SIGTERM', () => end('interrupted', 5));
const t = setTimeout(() => end('passed', 0), waitMs);
`,
);

const jobsWith = (o: { cli?: string[]; waitMs?: number } = {}) =>
  new RolloutJobs({
    cli: o.cli ?? [process.execPath, fake],
    state: join(dir, 'state.db'),
    env: { FAKE_WAIT_MS: String(o.waitMs ?? 0) },
    store: { unfinishedRun: async () => undefined },
  });

async function ended(jobs: RolloutJobs, env: string): Promise<RolloutJob> {
  for (;;) {
    const j = jobs.get(env);
    if (j && j.state !== 'running' && j.state !== 'stopping') return j;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RolloutJobs', () => {
  it('runs uplift rollout with the actor, store and options, and keeps its outcome, run id and last 200 lines', async () => {
    const jobs = jobsWith();

    jobs.run({
      env: 'test',
      action: 'approve',
      actor: 'olga',
      reason: 'hotfix',
      deployments: ['web'],
    });
    const job = await ended(jobs, 'test');

    expect(job).toMatchObject({ env: 'test', action: 'approve', state: 'passed', actor: 'olga' });
    expect(job).toMatchObject({ runId: 'run-1', exitCode: 0, reason: 'hotfix' });
    expect(job.log).toHaveLength(200);
    expect(job.log[0]).toBe('line 51');
    expect(job.log.at(-1)).toBe('line 250');
  });

  it('pauses by SIGTERM: the job ends paused with exit 5; a second job for the env is refused meanwhile', async () => {
    const jobs = jobsWith({ waitMs: 60_000 });
    jobs.run({ env: 'test', action: 'start', actor: 'olga' });

    expect(() => jobs.run({ env: 'test', action: 'start', actor: 'ada' })).toThrow(
      expect.objectContaining({ code: 'UPLIFT_SERVE_BUSY' }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(jobs.pause('test').state).toBe('stopping');
    const job = await ended(jobs, 'test');

    expect(job).toMatchObject({ state: 'paused', exitCode: 5 });
    expect(() => jobs.pause('test')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_SERVE_NOT_RUNNING' }),
    );
  });

  it('stopAll asks every running job to stop and waits for it; nothing starts after', async () => {
    const jobs = jobsWith({ waitMs: 60_000 });
    jobs.run({ env: 'a', action: 'start', actor: 'olga' });
    jobs.run({ env: 'b', action: 'resume', actor: 'olga' });
    await new Promise((r) => setTimeout(r, 300));

    await jobs.stopAll(10_000);

    expect(jobs.list().map((j) => [j.env, j.state])).toEqual([
      ['a', 'paused'],
      ['b', 'paused'],
    ]);
    expect(() => jobs.run({ env: 'c', action: 'start', actor: 'olga' })).toThrow(
      expect.objectContaining({ code: 'UPLIFT_SERVE_BUSY' }),
    );
  });

  it('a program that cannot start ends the job failed, with the reason in its log', async () => {
    const jobs = jobsWith({ cli: [join(dir, 'no-such-program')] });

    jobs.run({ env: 'test', action: 'start', actor: 'olga' });
    const job = await ended(jobs, 'test');

    expect(job.state).toBe('failed');
    expect(job.log.join('\n')).toMatch(/cannot run uplift rollout: .*ENOENT/);
  });
});
