import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  skiffProfileWith,
  startFreshInstall,
  stateDir,
  uplift,
} from '../util/apply-skiff.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

/** The node-level operations a rollout runs on each node, through the built CLI as it will run them. */
describe('uplift service status|stop|start and apply --leave-stopped on real skiff installations', () => {
  let fx: ApplyFixture;
  const made: string[] = [];

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-service-', from, to);
  }, 180_000);

  afterEach(async () => {
    for (const i of made.splice(0)) await fx.skiff.stopInstallation(i).catch(() => undefined);
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  async function running(): Promise<string> {
    const install = await startFreshInstall(fx);
    made.push(install);
    return install;
  }

  async function stopped(): Promise<string> {
    const install = await running();
    const r = uplift(['service', 'stop', '--install', install, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return install;
  }

  function json(args: string[]) {
    const r = uplift(args);
    // One JSON document on standard output, whatever the outcome.
    return { code: r.code, stderr: r.stderr, out: JSON.parse(r.stdout) };
  }

  /** `uplift service <verb> --install <install> --json`. */
  const service = (verb: 'status' | 'stop' | 'start', install: string) =>
    json(['service', verb, '--install', install, '--json']);
  const status = (install: string) => service('status', install);

  /** The records of the finished run's journal (runs/<runId>.journal). */
  async function runRecords(install: string, runId: string) {
    const text = await readFile(join(stateDir(install), 'runs', `${runId}.journal`), 'utf8');
    return text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { hop: number; step: string; state: string; data: never });
  }

  it('status of a running install: its version, processes, ready now, no run, no lock (exit 0)', async () => {
    const install = await running();

    const s = status(install);

    expect(s.code, s.stderr).toBe(0);
    expect(s.out).toMatchObject({
      install,
      profile: { name: 'skiff' },
      version: from,
      ready: true,
      interrupted: false,
      state: 'idle',
      lock: null,
    });
    expect(s.out.running.length).toBeGreaterThan(0);
    expect(s.out.probes).toEqual([expect.objectContaining({ name: 'health', ok: true })]);
  });

  it('stop and start are idempotent; status of the stopped install says stopped, not ready (exit 0)', async () => {
    const install = await running();
    const pids = status(install).out.running.map((p: { pid: number }) => p.pid);

    const stop1 = service('stop', install);
    const stop2 = service('stop', install);
    const down = status(install);
    const start1 = service('start', install);
    const start2 = service('start', install);
    const up = status(install);

    expect(stop1.code, stop1.stderr).toBe(0);
    expect(stop1.out).toMatchObject({ action: 'stop', changed: true, version: from, running: [] });
    expect([...stop1.out.stopped].sort()).toEqual([...pids].sort());
    expect(stop2.out).toMatchObject({ action: 'stop', changed: false, stopped: [] });
    expect(down.code).toBe(0);
    expect(down.out).toMatchObject({ version: from, running: [], ready: false, probes: [] });
    expect(down.out.notReady).toBe('no service runs');
    expect(start1.code, start1.stderr).toBe(0);
    expect(start1.out).toMatchObject({
      action: 'start',
      changed: true,
      ready: true,
      version: from,
    });
    expect(start1.out.probes[0].name).toBe('health');
    expect(start2.out).toMatchObject({ action: 'start', changed: false, ready: true });
    expect(up.out).toMatchObject({ ready: true, version: from });
    expect((await fx.skiff.getInstallationStatus(install)).healthy).toBe(true);
  });

  it('start that never gets ready: exit 1, UPLIFT_SERVICE_NOT_READY naming the probe and what it got', async () => {
    const install = await stopped();
    const profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
      probes: [{ name: 'health', command: { argv: ['sh', '-c', 'echo got 503; exit 3'] } }],
      timeoutSeconds: 2,
      stableSeconds: 1,
    });

    const r = json(['service', 'start', '--install', install, '--profile', profile, '--json']);

    expect(r.code).toBe(1);
    expect(r.out.error.code).toBe('UPLIFT_SERVICE_NOT_READY');
    expect(r.out.error.message).toContain('health');
    expect(r.out.error.message).toContain('got 503');
    expect(r.out.error.state).toContain('still run');
  });

  it('refuses stop and start while another uplift holds the lock (exit 4); status names the holder', async () => {
    const install = await running();
    // This test's own process holds the lock: alive, so never stale.
    await mkdir(stateDir(install), { recursive: true });
    await writeFile(
      join(stateDir(install), 'lock'),
      `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), command: 'apply' })}\n`,
    );

    const stop = service('stop', install);
    const start = service('start', install);
    const s = status(install);

    expect(stop.code).toBe(4);
    expect(stop.out.error.code).toBe('UPLIFT_APPLY_LOCKED');
    expect(start.code).toBe(4);
    expect(s.code).toBe(0);
    expect(s.out.lock).toMatchObject({ pid: process.pid, command: 'apply' });
    expect(s.out.running.length).toBeGreaterThan(0);
  });

  it('an interrupted run: status exit 5 (interrupted), stop and start refused with exit 5; resume --json ends it', async () => {
    const install = await running();
    const crashed = uplift(applyArgs(fx, install), { crashAt: 'switch:done' });
    expect(crashed.signal ?? crashed.code).toBeTruthy();

    const s = status(install);
    const stop = service('stop', install);
    const start = service('start', install);
    const resumed = json(['resume', '--install', install, '--abort', '--json']);
    const after = status(install);
    const nothing = json(['resume', '--install', install, '--json']);

    expect(s.code).toBe(5);
    expect(s.out).toMatchObject({ interrupted: true, state: 'interrupted' });
    expect(stop.code).toBe(5);
    expect(stop.out.error.code).toBe('UPLIFT_APPLY_INCOMPLETE');
    expect(start.code).toBe(5);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.out).toMatchObject({ outcome: 'rolled-back', from, to, version: from });
    expect(after.code).toBe(0);
    expect(after.out).toMatchObject({ interrupted: false, version: from, ready: true });
    expect(nothing.code).toBe(0);
    expect(nothing.out).toMatchObject({ outcome: 'none', action: 'none' });
  });

  it('apply of a stopped install without --leave-stopped: started, probed, smoke-tested, stopped again at commit (as before)', async () => {
    const install = await stopped();

    const r = json(applyArgs(fx, install));

    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatchObject({
      outcome: 'committed',
      from,
      to,
      version: to,
      service: 'stopped',
    });
    expect(r.out.wasRunning).toBe(false);
    expect(r.out.hops[0].stepSeconds.probe).toBeGreaterThan(0);
    expect(status(install).out).toMatchObject({ version: to, running: [], ready: false });
  });

  it('apply --leave-stopped on a stopped install: the new version passed its probe and smoke test during the run, and is left stopped', async () => {
    const install = await stopped();

    const r = json(applyArgs(fx, install, '--leave-stopped'));
    const s = status(install);
    const history = json(['history', '--install', install, '--json']);
    const records = await runRecords(install, r.out.runId);
    const back = json(['rollback', '--install', install, '--whole-run', '--yes', '--json']);

    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatchObject({
      outcome: 'committed',
      from,
      to,
      version: to,
      service: 'stopped',
      leftStopped: true,
    });
    const probe = records.find((x) => x.step === 'probe' && x.state === 'done');
    expect(probe?.data).toMatchObject({ probes: [{ name: 'health' }] });
    expect(records.some((x) => x.step === 'smoke' && x.state === 'done')).toBe(true);
    expect(records.at(-1)).toMatchObject({
      step: 'run',
      state: 'done',
      data: { outcome: 'committed', service: 'stopped', leftStopped: true },
    });
    expect(history.out.runs.at(-1)).toMatchObject({ outcome: 'committed', service: 'stopped' });
    expect(s.code).toBe(0);
    expect(s.out).toMatchObject({ version: to, running: [], ready: false, interrupted: false });
    expect(back.code, back.stderr).toBe(0);
    expect(back.out).toMatchObject({
      outcome: 'rolled-back',
      from: to,
      to: from,
      version: from,
      service: 'stopped',
    });
  });

  it('apply --leave-stopped on a running install also ends stopped', async () => {
    const install = await running();

    const r = json(applyArgs(fx, install, '--leave-stopped'));

    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toMatchObject({
      version: to,
      wasRunning: true,
      service: 'stopped',
      leftStopped: true,
    });
    expect(status(install).out).toMatchObject({ version: to, running: [] });
  });

  it('apply --leave-stopped that fails: rolled back to the old version, left stopped as found; --json carries outcome and versions', async () => {
    const install = await stopped();
    const profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
      probes: [{ name: 'health', command: { argv: ['false'] } }],
      timeoutSeconds: 2,
      stableSeconds: 1,
    });

    const r = json(applyArgs(fx, install, '--leave-stopped', '--profile', profile));
    const s = status(install);

    expect(r.code).toBe(1);
    expect(r.out).toMatchObject({
      outcome: 'rolled-back',
      from,
      to,
      version: from,
      service: 'stopped',
      error: { code: 'UPLIFT_APPLY_ROLLED_BACK' },
    });
    expect(s.out).toMatchObject({ version: from, running: [], interrupted: false });
    expect(await readdir(stateDir(install))).not.toContain('journal');
  });
});
