import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeToken, type RunningServer, startServe } from '../../src/serve/index.ts';
import { type OpenedStateStore, openStateStore } from '../../src/state/index.ts';
import {
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import { runOnPrivateCli } from '../util/rollout-e2e.ts';

/**
 * The operator's rollout actions through `uplift serve` on real skiff installations (local nodes),
 * a real SQLite store and real `uplift rollout` processes started by the server: a browser session
 * (cookie + CSRF token) starts a rollout of `test`, pauses it between node actions, resumes it to
 * the end; `preprod` is refused at the promotion gate (409 with the verdict), approved with a
 * reason, then aborted mid-rollout and taken back to the old version. Viewers and requests without
 * the CSRF token are refused. Every action is in the audit under the token's name.
 */
const { from, to } = SKIFF_ONE_HOP;
const cli = runOnPrivateCli();
let test: SkiffCluster;
let pre: SkiffCluster;
let store: OpenedStateStore;
let server: RunningServer;
let operator: Session;
let viewer: Session;

interface Session {
  cookie: string;
  csrf: string;
}

interface Job {
  env: string;
  action: string;
  state: string;
  actor: string;
  runId?: string;
  exitCode?: number | null;
  log: string[];
}

beforeAll(async () => {
  [test, pre] = await Promise.all([
    makeSkiffCluster({ nodes: 2, from, to, running: true }),
    makeSkiffCluster({ nodes: 2, from, to, running: true }),
  ]);
  const topology = await writeTopology(join(test.root, 'uplift.yaml'), [
    { name: 'test', deployments: [test.deployment({ name: 'web', type: 'standard-cluster' })] },
    { name: 'preprod', deployments: [pre.deployment({ name: 'web', type: 'standard-cluster' })] },
  ]);
  const state = join(test.root, 'state.db');
  store = await openStateStore({ file: state, env: {} });
  const olga = (await createServeToken(store, 'olga', 'operator')).token;
  const vic = (await createServeToken(store, 'vic', 'viewer')).token;
  server = await startServe({
    store,
    listen: '127.0.0.1:0',
    controller: 'serve:e2e',
    topology,
    rollouts: {
      cli: [process.execPath, join(cli.root, 'dist/cli/main.js')],
      state,
      env: { UPLIFT_DATABASE_URL: '' },
    },
  });
  [operator, viewer] = await Promise.all([signIn(olga), signIn(vic)]);
}, 300_000);
afterAll(async () => {
  await server?.close();
  await store?.close();
  await Promise.all([test?.dispose(), pre?.dispose()]);
});

async function signIn(token: string): Promise<Session> {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

async function call(
  s: Session,
  method: string,
  path: string,
  body?: unknown,
  o: { csrf?: boolean } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      cookie: s.cookie,
      ...(o.csrf === false ? {} : { 'x-csrf-token': s.csrf }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The job of `env` once `until` holds (polled every 100 ms, at most `ms`). */
async function jobWhen(env: string, until: (j: Job) => boolean, ms = 120_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await call(operator, 'GET', `/api/rollouts/jobs/${env}`);
    const job = r.body.job as Job | undefined;
    if (job !== undefined && until(job)) return job;
    if (Date.now() > end) throw new Error(`job of ${env} never got there: ${JSON.stringify(job)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const ended = (j: Job) => j.state !== 'running' && j.state !== 'stopping';

describe('refusals', () => {
  it('refuses a viewer (403, audited) and a session request without its CSRF token (403); nothing starts', async () => {
    const byViewer = await call(viewer, 'POST', '/api/rollouts', { env: 'test' });
    const abortByViewer = await call(viewer, 'POST', '/api/rollouts/test/abort', {});
    const noCsrf = await call(operator, 'POST', '/api/rollouts', { env: 'test' }, { csrf: false });
    const nothing = await call(operator, 'POST', '/api/rollouts/test/resume', {});

    expect(byViewer.status).toBe(403);
    expect(byViewer.body).toMatchObject({ error: { code: 'UPLIFT_SERVE_FORBIDDEN' } });
    expect(abortByViewer.status).toBe(403);
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toMatchObject({ error: { code: 'UPLIFT_SERVE_CSRF' } });
    expect(nothing.status).toBe(409);
    expect(nothing.body).toMatchObject({ error: { code: 'UPLIFT_SERVE_NOTHING_UNFINISHED' } });
    expect((await call(viewer, 'GET', '/api/rollouts/jobs')).body).toEqual({ jobs: [] });
    const refused = (await store.listAudit()).filter((e) => e.action === 'serve.refused');
    expect(refused.map((e) => [e.actor, e.detail?.path])).toEqual([
      ['vic', '/api/rollouts'],
      ['vic', '/api/rollouts/test/abort'],
    ]);
    expect(await store.listRuns()).toEqual([]);
  });

  it('refuses preprod at the promotion gate with 409 and its verdict; nothing changes', async () => {
    const r = await call(operator, 'POST', '/api/rollouts', { env: 'preprod' });

    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({
      error: { code: 'UPLIFT_ROLLOUT_GATE_REFUSED' },
      gate: { gaps: [{ env: 'test', deployment: 'web', reason: 'not-passed' }] },
    });
    expect((r.body.gate as { verdict: string }).verdict).toMatch(/test has no passed plan/);
    for (const n of pre.nodes) expect(nodeVersion(n)).toBe(from);
    expect(
      (await store.listAudit({ env: 'preprod' })).map((e) => `${e.actor} ${e.action} ${e.outcome}`),
    ).toEqual(['olga serve.rollout.start refused']);
  });
});

it('runs, pauses and resumes test to the end; approves preprod past the gate and aborts it mid-rollout back to the old version; all audited under the token name', async () => {
  const started = await call(operator, 'POST', '/api/rollouts', { env: 'test' });
  const again = await call(operator, 'POST', '/api/rollouts', { env: 'test' });
  const approved = await call(operator, 'POST', '/api/rollouts/preprod/approve', {
    reason: 'change 4711: preprod first this once',
  });

  expect(started.status, JSON.stringify(started.body)).toBe(202);
  expect(started.body.job).toMatchObject({ env: 'test', action: 'start', actor: 'olga' });
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ error: { code: 'UPLIFT_SERVE_BUSY' } });
  expect(approved.status, JSON.stringify(approved.body)).toBe(202);

  // test: pause while n1's upgrade runs; the run stops after it, unfinished.
  await jobWhen('test', (j) => j.log.some((l) => /n1: upgrade started/.test(l)));
  const pause = await call(operator, 'POST', '/api/rollouts/test/pause', {});
  expect(pause.status).toBe(202);
  const paused = await jobWhen('test', ended);
  expect(paused, paused.log.join('\n')).toMatchObject({ state: 'paused', exitCode: 5 });
  const runs = (await call(viewer, 'GET', '/api/runs?env=test')).body.runs as {
    id: string;
    outcome: string;
  }[];
  expect(runs).toMatchObject([{ id: paused.runId, outcome: 'interrupted' }]);

  // preprod: abort once n1 is upgraded; the run is taken back.
  await jobWhen('preprod', (j) => j.log.some((l) => /n1: upgrade ok/.test(l)));
  const abort = await call(operator, 'POST', '/api/rollouts/preprod/abort', {
    reason: 'wrong window',
  });
  expect(abort.status, JSON.stringify(abort.body)).toBe(202);
  expect(abort.body.job).toMatchObject({ action: 'abort', state: 'stopping' });

  const resumed = await call(operator, 'POST', '/api/rollouts/test/resume', {});
  expect(resumed.status, JSON.stringify(resumed.body)).toBe(202);
  const [done, back] = await Promise.all([jobWhen('test', ended), jobWhen('preprod', ended)]);

  expect(done, done.log.join('\n')).toMatchObject({
    action: 'resume',
    state: 'passed',
    exitCode: 0,
    runId: paused.runId,
  });
  for (const n of test.nodes) {
    expect(nodeVersion(n)).toBe(to);
    expect(isRunning(n)).toBe(true);
  }
  expect(back, back.log.join('\n')).toMatchObject({ action: 'abort', state: 'rolled-back' });
  for (const n of pre.nodes) {
    expect(nodeVersion(n)).toBe(from);
    expect(isRunning(n)).toBe(true);
  }
  const byAction = async (env: string) =>
    (await store.listAudit({ env }))
      .filter((e) => e.action.startsWith('serve.') || e.action.startsWith('gate.'))
      .map((e) => `${e.actor} ${e.action} ${e.outcome}`);
  expect(await byAction('test')).toEqual([
    'olga serve.rollout.resume refused',
    'olga serve.rollout.start ok',
    'olga serve.rollout.start refused',
    'olga gate.pass ok',
    'olga serve.rollout.pause ok',
    'olga serve.rollout.resume ok',
  ]);
  expect(await byAction('preprod')).toEqual([
    'olga serve.rollout.start refused',
    'olga serve.rollout.approve ok',
    'olga gate.override ok',
    'olga serve.rollout.abort ok',
  ]);
  const audit = await store.listAudit({ env: 'preprod' });
  expect(audit.find((e) => e.action === 'serve.rollout.approve')?.detail?.reason).toBe(
    'change 4711: preprod first this once',
  );
  expect(audit.find((e) => e.action === 'gate.override')?.detail?.reason).toBe(
    'change 4711: preprod first this once',
  );
  expect(audit.find((e) => e.action === 'serve.rollout.abort')?.detail?.reason).toBe(
    'wrong window',
  );
  expect(
    audit.filter((e) => e.action === 'rollout.finish').map((e) => [e.actor, e.detail?.outcome]),
  ).toEqual([
    ['olga', 'interrupted'],
    ['olga', 'rolled-back'],
  ]);
}, 300_000);

it('uplift serve runs rollouts with its own CLI and, on SIGTERM, stops them between node actions before it exits', async () => {
  const state = join(pre.root, 'solo.db');
  const topology = await writeTopology(join(pre.root, 'solo.yaml'), [
    { name: 'solo', deployments: [pre.deployment({ name: 'web', type: 'standard-cluster' })] },
  ]);
  const solo = await openStateStore({ file: state, env: {} });
  const { token } = await createServeToken(solo, 'sam', 'operator');
  await solo.close();
  const child = spawn(
    process.execPath,
    [
      join(cli.root, 'dist/cli/main.js'),
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--state',
      state,
      '--topology',
      topology,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UPLIFT_DATABASE_URL: '' } },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (stdout.includes('\n'))
        resolve((JSON.parse(stdout.split('\n')[0] as string) as { url: string }).url);
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const jobOf = async () =>
    (
      (await (await fetch(`${url}/api/rollouts/jobs/solo`, { headers: bearer })).json()) as {
        job: Job;
      }
    ).job;

  const start = await fetch(`${url}/api/rollouts`, {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({ env: 'solo' }),
  });
  expect(start.status, await start.clone().text()).toBe(202);
  for (
    let job = await jobOf();
    !job.log.some((l) => /n1: upgrade started/.test(l));
    job = await jobOf()
  ) {
    expect(job.state, job.log.join('\n')).toBe('running');
    await new Promise((res) => setTimeout(res, 100));
  }
  child.kill('SIGTERM');

  expect(await exited, stderr).toBe(0);
  expect(stderr).toMatch(/rollout job start of solo ended paused/);
  const after = await openStateStore({ file: state, env: {} });
  const runs = await after.listRuns({ env: 'solo' });
  const finish = (await after.listAudit({ env: 'solo' })).find(
    (e) => e.action === 'rollout.finish',
  );
  await after.close();
  expect(runs).toMatchObject([{ outcome: 'interrupted' }]);
  expect(finish).toMatchObject({ actor: 'sam', detail: { outcome: 'interrupted' } });
}, 120_000);
