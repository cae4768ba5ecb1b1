// biome-ignore-all lint/suspicious/noTemplateCurlyInString: profile strings hold ${...} variables literally
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../util/index.ts';
import {
  findRunningProcesses,
  isRunning,
  killServices,
  type LifecycleInput,
  type LifecycleTarget,
  startServices,
  stopServices,
  waitUntilReady,
} from './index.ts';
import { Lifecycle } from './schema.ts';

/**
 * A tiny product: an HTTP server that writes the port it listens on to var/run/server.port.
 * MODE=500 answers 500, MODE=silent never listens, EXIT_AFTER_MS exits that long after start,
 * IGNORE_TERM=1 survives SIGTERM.
 */
const SERVER = `
import { createServer } from 'node:http';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
const mode = process.env.MODE ?? 'ok';
const server = createServer((req, res) => {
  res.statusCode = mode === '500' ? 500 : 200;
  res.end(JSON.stringify({ version: process.env.VERSION ?? '1.0.0' }));
});
if (mode !== 'silent')
  server.listen(0, '127.0.0.1', () => {
    mkdirSync('var/run', { recursive: true });
    writeFileSync('var/run/server.port.tmp', String(server.address().port) + '\\n');
    renameSync('var/run/server.port.tmp', 'var/run/server.port');
    console.log('listening on ' + server.address().port);
  });
setInterval(() => {}, 1000);
if (process.env.EXIT_AFTER_MS) setTimeout(() => { console.log('giving up'); process.exit(3); }, Number(process.env.EXIT_AFTER_MS));
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
else process.on('SIGTERM', () => { console.log('stopping on SIGTERM'); process.exit(0); });
if (process.env.FAIL_AT_ONCE) { console.error('cannot open conf/server.yaml'); process.exit(2); }
`;

const START = `#!/bin/sh
cd "$(dirname "$0")/.." || exit 1
mkdir -p var/run var/log
nohup "$NODE" server.mjs >>var/log/server.log 2>&1 &
echo $! >var/run/server.pid
echo started
`;

const STOP = `#!/bin/sh
cd "$(dirname "$0")/.." || exit 1
kill "$(cat var/run/server.pid)" && rm -f var/run/server.pid
`;

const targets: LifecycleTarget[] = [];
const roots: string[] = [];
const strays: number[] = [];

afterEach(async () => {
  for (const t of targets.splice(0)) await killServices(t).catch(() => undefined);
  for (const pid of strays.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

async function makeTarget(
  lifecycle: LifecycleInput,
): Promise<LifecycleTarget & { events: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'uplift-lifecycle-'));
  roots.push(root);
  const install = join(root, 'install');
  await mkdir(join(install, 'bin'), { recursive: true });
  await writeFile(join(install, 'server.mjs'), SERVER);
  await writeFile(join(install, 'bin/start'), START);
  await writeFile(join(install, 'bin/stop'), STOP);
  await chmod(join(install, 'bin/start'), 0o755);
  await chmod(join(install, 'bin/stop'), 0o755);
  const events: string[] = [];
  const t = {
    install,
    profileDir: join(root, 'profile'),
    lifecycle: Lifecycle.parse(lifecycle),
    version: '1.0.0',
    onEvent: (line: string) => events.push(line),
    events,
  };
  targets.push(t);
  return t;
}

const runService = (env: Record<string, string> = {}) => ({
  name: 'server',
  run: { argv: ['${node}', 'server.mjs'], env, log: 'var/log/server.log' },
  pidFile: 'var/run/server.pid',
});

const httpProbe = {
  name: 'ping',
  http: {
    url: 'http://127.0.0.1:${file:var/run/server.port}/ping',
    bodyMatch: '"version":"1.0.0"',
  },
};

describe('start, wait until ready, stop', () => {
  it('runs a run service detached, probes it and stops it with SIGTERM', async () => {
    const t = await makeTarget({
      services: [runService()],
      readiness: { probes: [httpProbe], stableSeconds: 0.3, timeoutSeconds: 10, intervalMs: 50 },
    });

    const pids = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });
    const ready = await waitUntilReady(t);

    expect(pids).toHaveLength(1);
    expect(Number(await readFile(join(t.install, 'var/run/server.pid'), 'utf8'))).toBe(pids[0]);
    expect(ready.pids).toEqual(pids);
    expect(ready.stableSeconds).toBeGreaterThanOrEqual(0.3);
    expect(ready.probes).toEqual([{ name: 'ping', detail: expect.stringMatching(/answered 200/) }]);
    expect(await findRunningProcesses(t)).toEqual([
      { service: 'server', pid: pids[0], pidFile: 'var/run/server.pid' },
    ]);

    await stopServices(t, { code: 'UPLIFT_APPLY_STOP_FAILED' });

    expect(isAlive(pids[0] as number)).toBe(false);
    expect(await isRunning(t)).toBe(false);
    await expect(readFile(join(t.install, 'var/run/server.pid'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await readFile(join(t.install, 'var/log/server.log'), 'utf8')).toMatch(
      /listening on \d+\nstopping on SIGTERM/,
    );
  });

  it('starts with a start script that daemonizes and stops with a stop command', async () => {
    const t = await makeTarget({
      services: [
        {
          name: 'server',
          start: { argv: ['bin/start'], env: { NODE: '${node}' } },
          stop: { argv: ['./bin/stop'] },
          pidFile: 'var/run/*.pid',
        },
      ],
      readiness: {
        probes: [{ tcp: { port: '${file:var/run/server.port}' } }],
        stableSeconds: 0,
        timeoutSeconds: 10,
        intervalMs: 50,
      },
    });

    const [pid] = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });
    await waitUntilReady(t);
    await stopServices(t, { code: 'UPLIFT_APPLY_STOP_FAILED' });

    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid as number)).toBe(false);
    expect(t.events).toContain(`stopping server (pid ${pid} (var/run/server.pid)): ./bin/stop`);
  });

  it('leaves a service alone that is not running, and one that already runs', async () => {
    const t = await makeTarget({ services: [runService()] });

    await stopServices(t, { code: 'UPLIFT_APPLY_STOP_FAILED' });
    const first = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });
    const second = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });

    expect(t.events[0]).toBe('server: not running');
    expect(second).toEqual(first);
  });

  it('is ready as soon as the processes live when there are no probes and no window', async () => {
    const t = await makeTarget({
      services: [runService()],
      readiness: { stableSeconds: 0, timeoutSeconds: 5 },
    });
    await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });

    const ready = await waitUntilReady(t);

    expect(ready.seconds).toBeLessThan(1);
    expect(ready.probes).toEqual([]);
  });
});

describe('should report a service that', () => {
  it('exits at once, with the end of its log', async () => {
    const t = await makeTarget({ services: [runService({ FAIL_AT_ONCE: '1' })] });

    const err = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' }).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_APPLY_START_FAILED', unchanged: true });
    expect(err.message).toMatch(/server .* exited with 2 right after it was started/);
    expect(err.message).toContain('cannot open conf/server.yaml');
  });

  it('has a start command that fails, without saying "unchanged" once the installation changed', async () => {
    const t = await makeTarget({
      services: [{ name: 'server', start: { argv: ['bin/missing'] }, pidFile: 'var/run/x.pid' }],
    });

    const err = await startServices(t, {
      code: 'UPLIFT_RESTORE_START_FAILED',
      changed: true,
    }).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_RESTORE_START_FAILED', unchanged: false });
    expect(err.message).toMatch(
      /`bin\/missing` exited with 127: cannot run .*bin\/missing.*ENOENT/,
    );
  });

  it('crashes within the stability window, saying it exited', async () => {
    const t = await makeTarget({
      services: [runService({ EXIT_AFTER_MS: '1700' })],
      readiness: { probes: [httpProbe], stableSeconds: 3, timeoutSeconds: 10, intervalMs: 100 },
    });
    const [pid] = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });

    const err = await waitUntilReady(t).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_APPLY_PROBE_FAILED', unchanged: false });
    expect(err.message).toMatch(
      new RegExp(
        `service server of .* exited [12]\\.\\d s after it was seen running \\(pid ${pid}\\); the end of var/log/server.log:\nlistening on \\d+\ngiving up$`,
      ),
    );
  });

  it('answers 500 until the timeout, naming the probe and the answer', async () => {
    const t = await makeTarget({
      services: [runService({ MODE: '500' })],
      readiness: { probes: [httpProbe], stableSeconds: 0, timeoutSeconds: 1.5, intervalMs: 100 },
    });
    await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });

    const err = await waitUntilReady(t).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_APPLY_PROBE_FAILED' });
    expect(err.message).toMatch(
      /not ready after 1.5 s: ping: GET http:\/\/127.0.0.1:\d+\/ping answered 500 \(expected 200\): \{"version"/,
    );
  });

  it('never listens, naming the probe and why', async () => {
    const t = await makeTarget({
      services: [runService({ MODE: 'silent' })],
      readiness: { probes: [httpProbe], stableSeconds: 0, timeoutSeconds: 1, intervalMs: 100 },
    });
    await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });

    const err = await waitUntilReady(t).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_APPLY_PROBE_FAILED' });
    expect(err.message).toMatch(
      /not ready after 1 s: ping: .*server\.port cannot be read \(ENOENT\)/,
    );
  });

  it('ignores SIGTERM: stop gives up without SIGKILL, killServices ends it', async () => {
    const t = await makeTarget({
      services: [{ ...runService({ IGNORE_TERM: '1' }), stopTimeoutSeconds: 1 }],
    });
    const [pid] = await startServices(t, { code: 'UPLIFT_APPLY_START_FAILED' });
    await sleep(200); // the SIGTERM handler is installed

    const err = await stopServices(t, { code: 'UPLIFT_BACKUP_STOP_FAILED' }).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_BACKUP_STOP_FAILED', unchanged: true });
    expect(err.message).toMatch(
      new RegExp(`still running 1 s after SIGTERM: pid ${pid} \\(var/run/server.pid\\)`),
    );
    expect(err.hint).toMatch(/never kills/);
    expect(isAlive(pid as number)).toBe(true);

    await killServices(t);

    expect(isAlive(pid as number)).toBe(false);
  });
});

describe('processMatch', () => {
  it('finds a process running from the installation, not one elsewhere', async () => {
    const t = await makeTarget({
      services: [{ name: 'server', start: { argv: ['true'] }, processMatch: 'server\\.mjs' }],
    });
    const inside = spawn(process.execPath, ['server.mjs'], {
      cwd: t.install,
      env: { ...process.env, MODE: 'silent' },
      stdio: 'ignore',
    });
    const outside = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'server.mjs'], {
      cwd: tmpdir(),
      stdio: 'ignore',
    });
    strays.push(inside.pid as number, outside.pid as number);
    await sleep(100);

    const found = await findRunningProcesses(t);

    expect(found).toEqual([{ service: 'server', pid: inside.pid }]);
  });
});
