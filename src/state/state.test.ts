import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachStore,
  freshStateTarget,
  postgresMissing,
  testPostgresStartSeconds,
} from '../../test/util/postgres.ts';
import { canonicalJson, sha256 } from '../util/index.ts';
import { type OpenedStateStore, openStateStore, type PlanKey, redactDatabaseUrl } from './index.ts';

interface Target {
  url?: string;
  file?: string;
}

const temp: string[] = [];
afterAll(() => {
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'uplift-state-'));
  temp.push(d);
  return d;
}

/** The database a store would use, reached without the store, as an operator's SQL client would. */
async function rawSql(t: Target, text: string): Promise<unknown[]> {
  if (t.file !== undefined) {
    const db = new Database(t.file);
    try {
      const st = db.prepare(text);
      return st.reader ? st.all() : [st.run()];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const open = (t: Target) => openStateStore({ ...t, env: {} });

const childScript = join(import.meta.dirname, '../../test/util/state-claim-child.ts');

/** A controller in its own process (test/util/state-claim-child.ts), driven line by line. */
function startChild(t: Target, key: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, key, t.file ?? ''], {
    env: { ...process.env, UPLIFT_DATABASE_URL: t.url ?? '' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = async (): Promise<string> => {
    const deadline = Date.now() + 20_000;
    while (lines.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`child exited (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error('child said nothing for 20 s');
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return lines.shift() as string;
  };
  return { child, next, go: () => child.stdin?.write('go\n') };
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

async function eventually<T>(f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pgMissing = postgresMissing();
const key = (n: string): PlanKey => ({
  profile: 'demo',
  profileDigest: `sha256:${n}`,
  path: ['1.0.0', n],
  packDigests: [`sha256:pack-${n}`],
});

describeEachStore('the state store on %s', (kind) => {
  const fresh = (): Promise<Target> => freshStateTarget(kind, tempDir());

  let target: Target;
  let store: OpenedStateStore;
  beforeAll(async () => {
    if (kind === 'postgres') {
      const seconds = await testPostgresStartSeconds();
      if (seconds !== undefined)
        console.log(`PostgreSQL test server started in ${seconds.toFixed(2)} s`);
    }
    target = await fresh();
    store = await open(target);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  it('applies its migrations on first use, and a second open changes nothing', async () => {
    const t = await fresh();

    const first = await open(t);
    await first.audit({
      actor: 'op@host',
      controller: 'c1',
      action: 'rollout.start',
      outcome: 'ok',
    });
    await first.close();
    const second = await open(t);
    const entries = await second.listAudit();
    await second.close();

    expect(first.kind).toBe(kind);
    expect(await rawSql(t, 'SELECT name FROM uplift_migration ORDER BY name')).toEqual([
      { name: '0001-initial' },
      { name: '0002-node-checks' },
      { name: '0003-serve-tokens' },
    ]);
    expect(entries.map((e) => e.action)).toEqual(['rollout.start']);
  });

  it('refuses a database that a newer uplift migrated, and does not write to it', async () => {
    const t = await fresh();
    await (await open(t)).close();
    await rawSql(
      t,
      `INSERT INTO uplift_migration (name, timestamp) VALUES ('9999-from-the-future', '2099-01-01T00:00:00.000Z')`,
    );

    await expect(open(t)).rejects.toMatchObject({ code: 'UPLIFT_STATE_TOO_NEW', unchanged: true });
    expect(await rawSql(t, 'SELECT name FROM uplift_migration ORDER BY name')).toEqual([
      { name: '0001-initial' },
      { name: '0002-node-checks' },
      { name: '0003-serve-tokens' },
      { name: '9999-from-the-future' },
    ]);
  });

  it('keeps runs, and finds the newest unfinished one of an environment', async () => {
    const base = { topologyDigest: 'sha256:t', controller: 'c1', dryRun: false };
    await store.startRun({ ...base, id: 'run-a', env: 'runs-test', deployments: ['d1', 'd2'] });
    await new Promise((r) => setTimeout(r, 5));
    const b = await store.startRun({ ...base, id: 'run-b', env: 'runs-test', deployments: ['d1'] });

    const unfinished = await store.unfinishedRun('runs-test');
    await store.finishRun('run-b', 'passed');
    const after = await store.unfinishedRun('runs-test');
    await store.finishRun('run-a', 'rolled-back');

    expect(unfinished).toEqual(b);
    expect(after?.id).toBe('run-a');
    expect(await store.unfinishedRun('runs-test')).toBeUndefined();
    expect(await store.getRun('run-a')).toMatchObject({
      id: 'run-a',
      env: 'runs-test',
      deployments: ['d1', 'd2'],
      topologyDigest: 'sha256:t',
      outcome: 'rolled-back',
      dryRun: false,
      finishedAt: expect.any(String),
    });
    expect(await store.getRun('nope')).toBeUndefined();
  });

  it('keeps node states (the latest per node), step timings and facts snapshots', async () => {
    const n = { runId: 'run-n', deployment: 'd1' };
    await store.setNodeState({ ...n, node: 'n2', state: 'stopped', fromVersion: '1.0' });
    await store.setNodeState({ ...n, node: 'n1', state: 'pending' });
    await store.setNodeState({
      ...n,
      node: 'n2',
      state: 'upgraded',
      fromVersion: '1.0',
      toVersion: '2.0',
    });
    await store.recordStep({ ...n, node: 'n2', step: 'stop', seconds: 1.25 });
    await store.recordStep({ ...n, node: 'n2', step: 'upgrade', seconds: 12.5 });
    const facts = { version: '1.0', os: { id: 'debian' }, ports: [8080] };
    await store.recordFacts({ deployment: 'd1', node: 'n2', facts: { version: '0.9' } });
    await store.recordFacts({ ...n, node: 'n2', facts });

    const states = await store.nodeStates('run-n');
    const timings = await store.stepTimings('run-n');
    const last = await store.lastFacts('d1', 'n2');

    expect(states.map(({ updatedAt, ...s }) => s)).toEqual([
      { ...n, node: 'n1', state: 'pending', fromVersion: undefined, toVersion: undefined },
      { ...n, node: 'n2', state: 'upgraded', fromVersion: '1.0', toVersion: '2.0' },
    ]);
    expect(timings.map((t) => [t.step, t.seconds])).toEqual([
      ['stop', 1.25],
      ['upgrade', 12.5],
    ]);
    expect(last).toMatchObject({ runId: 'run-n', facts, digest: sha256(canonicalJson(facts)) });
    expect(await store.lastFacts('d1', 'nobody')).toBeUndefined();
    const surveys = await store.lastSurveys(['d1', 'elsewhere']);
    expect(surveys).toEqual([{ deployment: 'd1', node: 'n2', at: last?.at }]);
    expect(await store.lastSurveys([])).toEqual([]);
  });

  it('finds step timings by the start of their name, and the facts of a run', async () => {
    const hop = `hop 1.0_x% → 1.1 ${kind} `;
    await store.recordStep({
      runId: 'run-p1',
      deployment: 'd1',
      node: 'n1',
      step: `${hop}stop`,
      seconds: 1.5,
    });
    await store.recordStep({
      runId: 'run-p1',
      deployment: 'd1',
      node: 'n1',
      step: 'stop',
      seconds: 9,
    });
    // A wildcard in a version is a character, not a pattern.
    await store.recordStep({
      runId: 'run-p2',
      deployment: 'd1',
      node: 'n1',
      step: `hop 1.0_xy → 1.1 ${kind} stop`,
      seconds: 7,
    });
    await store.recordStep({
      runId: 'run-p3',
      deployment: 'd2',
      node: 'n9',
      step: `${hop}migrate`,
      seconds: 4.25,
    });
    await store.recordFacts({
      runId: 'run-p3',
      deployment: 'd2',
      node: 'n9',
      facts: { data: { rows: 10 } },
    });

    const timings = await store.stepTimingsByPrefix(hop);
    const facts = await store.runFacts('run-p3');

    expect(timings.map((t) => [t.runId, t.step.slice(hop.length), t.seconds])).toEqual([
      ['run-p1', 'stop', 1.5],
      ['run-p3', 'migrate', 4.25],
    ]);
    expect(facts).toMatchObject([{ runId: 'run-p3', node: 'n9', facts: { data: { rows: 10 } } }]);
    expect(await store.runFacts('run-none')).toEqual([]);
  });

  it("keeps each node's last check per environment", async () => {
    const n = { env: 'checks-test', deployment: 'd1', node: 'n1' };
    await store.recordCheck({ ...n, status: 'pass', pass: 3, warn: 0, fail: 0, failed: [] });
    await store.recordCheck({
      ...n,
      status: 'fail',
      pass: 1,
      warn: 0,
      fail: 1,
      failed: ['node-runtime'],
      code: 'UPLIFT_NODE_RUNTIME',
    });
    await store.recordCheck({
      ...n,
      env: 'other',
      status: 'warn',
      pass: 2,
      warn: 1,
      fail: 0,
      failed: [],
    });

    const last = await store.lastCheck('checks-test', 'd1', 'n1');

    expect(last).toEqual({
      ...n,
      status: 'fail',
      pass: 1,
      warn: 0,
      fail: 1,
      failed: ['node-runtime'],
      code: 'UPLIFT_NODE_RUNTIME',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await store.lastCheck('other', 'd1', 'n1'))?.status).toBe('warn');
    expect(await store.lastCheck('checks-test', 'd1', 'nobody')).toBeUndefined();
    await store.recordCheck({
      ...n,
      node: 'n2',
      status: 'pass',
      pass: 3,
      warn: 0,
      fail: 0,
      failed: [],
    });
    const all = await store.lastChecks('checks-test');
    expect(all.map((c) => [c.node, c.status]).sort()).toEqual([
      ['n1', 'fail'],
      ['n2', 'pass'],
    ]);
    expect(all.find((c) => c.node === 'n1')).toEqual(last);
  });

  it('returns only the passed plan keys of the environment asked for, once each', async () => {
    const rec = (
      runId: string,
      env: string,
      deployment: string,
      k: PlanKey,
      outcome: 'passed' | 'running' | 'failed',
    ) => store.recordDeploymentPlan({ runId, env, deployment, key: k, outcome });
    await rec('p1', 'test', 'd1', key('2.0'), 'running');
    await rec('p1', 'test', 'd1', key('2.0'), 'passed');
    await rec('p1', 'test', 'd2', key('2.0'), 'passed');
    await rec('p2', 'test', 'd1', key('3.0'), 'failed');
    await rec('p3', 'preprod', 'd1', key('4.0'), 'passed');
    await rec('p4', 'test', 'd1', key('5.0'), 'running');
    // Key order in the object does not make a different key.
    const reordered = {
      packDigests: ['sha256:pack-2.0'],
      path: ['1.0.0', '2.0'],
      profileDigest: 'sha256:2.0',
      profile: 'demo',
    };
    await rec('p5', 'test', 'd3', reordered, 'passed');

    expect(await store.passedPlanKeys('test')).toEqual([key('2.0')]);
    expect(await store.passedPlanKeys('preprod')).toEqual([key('4.0')]);
    expect(await store.passedPlanKeys('prod')).toEqual([]);
  });

  it('appends to the audit log, and the database refuses to change or remove an entry', async () => {
    const e = await store.audit({
      actor: 'op@host',
      controller: 'c1',
      runId: 'run-audit',
      env: 'audit-env',
      action: 'gate.override',
      outcome: 'ok',
      detail: { reason: 'hotfix' },
    });

    await expect(
      rawSql(target, `UPDATE audit SET outcome = 'refused' WHERE id = ${e.id}`),
    ).rejects.toThrow(/append-only/);
    await expect(rawSql(target, `DELETE FROM audit WHERE id = ${e.id}`)).rejects.toThrow(
      /append-only/,
    );
    expect(await store.listAudit({ runId: 'run-audit' })).toEqual([
      { ...e, deployment: undefined, node: undefined },
    ]);
  });

  it('lists the audit log oldest first, filtered by run, environment, deployment, time and count', async () => {
    const base = { actor: 'op@host', controller: 'c1', outcome: 'ok' as const };
    const a = await store.audit({
      ...base,
      runId: 'r1',
      env: 'la',
      deployment: 'd1',
      action: 'node.stop',
    });
    const b = await store.audit({
      ...base,
      runId: 'r1',
      env: 'la',
      deployment: 'd2',
      action: 'node.upgrade',
    });
    await new Promise((r) => setTimeout(r, 10));
    const c = await store.audit({
      ...base,
      runId: 'r2',
      env: 'la',
      deployment: 'd1',
      action: 'node.start',
    });
    const d = await store.audit({
      ...base,
      runId: 'r3',
      env: 'lb',
      deployment: 'd1',
      action: 'node.probe',
    });

    const ids = async (f: Parameters<typeof store.listAudit>[0]) =>
      (await store.listAudit(f)).map((x) => x.id);

    expect(await ids({ env: 'la' })).toEqual([a.id, b.id, c.id]);
    expect(await ids({ runId: 'r1' })).toEqual([a.id, b.id]);
    expect(await ids({ env: 'la', deployment: 'd1' })).toEqual([a.id, c.id]);
    expect(await ids({ env: 'la', since: c.at })).toEqual([c.id]);
    expect(await ids({ env: 'la', limit: 2 })).toEqual([b.id, c.id]);
    expect(await ids({ deployment: 'd1', since: a.at })).toEqual([a.id, c.id, d.id]);
  });

  it('lets one store at a time hold a claim, until it is released', async () => {
    const other = await open(target);
    try {
      const mine = await store.claim('prod/cluster-a', 'controller-1');
      const theirs = await other.claim('prod/cluster-a', 'controller-2');
      const elsewhere = await other.claim('prod/cluster-b', 'controller-2');
      const listed = await store.listClaims();
      await mine?.release();
      await mine?.release();
      const after = await other.claim('prod/cluster-a', 'controller-2');

      expect(mine).toMatchObject({
        deploymentKey: 'prod/cluster-a',
        controller: 'controller-1',
        lost: false,
      });
      expect(theirs).toBeUndefined();
      expect(elsewhere).toBeDefined();
      expect(listed.map((c) => [c.deploymentKey, c.controller, c.live])).toEqual([
        ['prod/cluster-a', 'controller-1', true],
        ['prod/cluster-b', 'controller-2', true],
      ]);
      expect(after?.controller).toBe('controller-2');
    } finally {
      await other.close();
    }
    // Closing a store releases what it held.
    expect(await store.claim('prod/cluster-a', 'controller-1')).toBeDefined();
  });

  // Only one of the two backends has each of the next two behaviours; not defined is not skipped.
  if (kind === 'sqlite')
    it('takes over a SQLite claim whose heartbeat stopped, and leaves a fresh one of another host', async () => {
      const old = new Date(Date.now() - 61_000).toISOString();
      const fresh = new Date().toISOString();
      await rawSql(
        target,
        `INSERT INTO claims VALUES ('prod/silent', 'gone', ${process.pid}, 'other-host', '${old}', '${old}'),
          ('prod/busy', 'elsewhere', ${process.pid}, 'other-host', '${fresh}', '${fresh}')`,
      );

      const silent = await store.claim('prod/silent', 'controller-1');
      const busy = await store.claim('prod/busy', 'controller-1');
      const listed = await store.listClaims();

      expect(silent?.controller).toBe('controller-1');
      expect(busy).toBeUndefined();
      expect(listed.find((c) => c.deploymentKey === 'prod/busy')?.live).toBe(true);
      await silent?.release();
    });

  if (kind === 'postgres')
    it('reports a PostgreSQL claim lost when its connection ends, and frees it', async () => {
      const held = await store.claim('prod/cut', 'controller-1');

      await rawSql(
        target,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND query LIKE 'SELECT pg_try_advisory_lock%'`,
      );
      const other = await open(target);
      try {
        const taken = await eventually(() => other.claim('prod/cut', 'controller-2'));

        expect(held?.lost).toBe(true);
        expect(taken.controller).toBe('controller-2');
        expect(await other.listClaims()).toContainEqual(
          expect.objectContaining({
            deploymentKey: 'prod/cut',
            controller: 'controller-2',
            live: true,
          }),
        );
      } finally {
        await held?.release();
        await other.close();
      }
    });

  it('frees a claim whose holder was killed with SIGKILL', async () => {
    const holder = startChild(target, 'prod/killed');
    expect(await holder.next()).toBe('ready');
    holder.go();
    expect(await holder.next()).toBe('held');

    const whileHeld = await store.claim('prod/killed', 'controller-1');
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    const after = await eventually(() => store.claim('prod/killed', 'controller-1'));

    expect(whileHeld).toBeUndefined();
    expect(after.controller).toBe('controller-1');
    await after.release();
  }, 60_000);

  it('gives a deployment to exactly one of two processes claiming it at once', async () => {
    const children = [startChild(target, 'prod/race'), startChild(target, 'prod/race')];
    try {
      for (const c of children) expect(await c.next()).toBe('ready');

      for (const c of children) c.go();
      const results = await Promise.all(children.map((c) => c.next()));

      expect(results.sort()).toEqual(['held', 'refused']);
    } finally {
      for (const c of children) c.child.stdin?.end();
      await Promise.all(children.map((c) => exited(c.child)));
    }
    expect(await store.listClaims()).not.toContainEqual(
      expect.objectContaining({ deploymentKey: 'prod/race' }),
    );
  }, 60_000);
});

describe('state store errors', () => {
  it('refuses a SQLite file it cannot create, naming it', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');

    await expect(openStateStore({ file: join(file, 'state.db'), env: {} })).rejects.toMatchObject({
      code: 'UPLIFT_STATE_UNREACHABLE',
      message: expect.stringContaining(join(file, 'state.db')),
    });
  });

  it('uses UPLIFT_DATABASE_URL, and never shows the password of an unreachable server', async () => {
    const url = 'postgres://uplift:s3cret-Pa55@127.0.0.1:1/fleet?sslmode=disable';

    const err = await openStateStore({ env: { UPLIFT_DATABASE_URL: url } }).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_STATE_UNREACHABLE' });
    expect(err.message).toContain('postgres://uplift:***@127.0.0.1:1/fleet');
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(
      's3cret',
    );
  });

  it.each([
    ['not a URL', 'notaurl'],
    ['a port beyond 65535', 'postgres://u:s3cret@127.0.0.1:99999/db'],
    ['port 0', 'postgres://u:s3cret@127.0.0.1:0/db'],
    ['another database', 'mysql://u:s3cret@127.0.0.1:3306/db'],
    ['no host', 'postgres://u:s3cret@/db'],
  ])(
    'refuses a UPLIFT_DATABASE_URL that is %s as a usage error, before any connection',
    async (_name, url) => {
      const err = await openStateStore({ env: { UPLIFT_DATABASE_URL: url } }).catch((e) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_USAGE', exitCode: 2, unchanged: true });
      expect(`${err.message} ${err.hint}`).not.toContain('s3cret');
    },
  );

  it('creates no SQLite file when opened read-only: an empty store stands in for it', async () => {
    const file = join(tempDir(), 'sub', 'state.db');

    const store = await openStateStore({ file, env: {}, readOnly: true });
    const entries = await store.listAudit();
    await store.close();

    expect(entries).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(dirname(file))).toBe(false);
  });

  it('redacts passwords in the authority and in the query of a URL', () => {
    expect(redactDatabaseUrl('postgres://u:p%40ss@db:5432/x?password=also&sslmode=require')).toBe(
      'postgres://u:***@db:5432/x?password=***&sslmode=require',
    );
    expect(redactDatabaseUrl('postgres://db/x')).toBe('postgres://db/x');
    expect(redactDatabaseUrl('not a url s3cret')).not.toContain('s3cret');
  });

  it.skipIf(pgMissing !== undefined && process.env.CI !== 'true')(
    'reports a wrong password of a real server without the password',
    async () => {
      const good = new URL(await createTestDatabase());
      good.password = 'wrong-Pa55word';

      const err = await openStateStore({ url: good.href }).catch((e) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_STATE_UNREACHABLE' });
      expect(err.message).toMatch(/password authentication failed/);
      expect(`${err.message} ${err.stack} ${err.hint}`).not.toContain('wrong-Pa55word');
    },
    120_000,
  );
});
