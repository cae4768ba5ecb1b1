import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { uplift, upliftAsync } from '../util/apply-skiff.ts';
import {
  type FixtureNode,
  isRunning,
  makeVerdaccioDeployment,
  nodeVersion,
  type VerdaccioDeployment,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  auditEntries,
  describeEachStore,
  rolloutArgs,
  rolloutEnd,
  runOnPrivateCli,
  stepTimes,
  type TestStore,
  testStore,
} from '../util/rollout-e2e.ts';

/**
 * The second product through the same rollout: a rolling deployment of two real Verdaccio
 * registries (profiles/verdaccio, local nodes), maxUnavailable 1, upgraded by `uplift rollout`.
 * apply's smoke test on each node publishes with the account the topology's `passEnv` passes
 * from the controller's environment; the password appears in no event, no audit entry and
 * nowhere in the state store. The audit shows one node's upgrade and gate before the next's;
 * each registry then serves the new version to a client. The same with the SQLite store and with
 * a real PostgreSQL (whose every table is searched for the password).
 */
runOnPrivateCli();
let fleet: VerdaccioDeployment;
let topology: string;
let store: TestStore;

/** The version a running registry serves in its web UI options (5.x in the page, 6.x in ui-options.js). */
async function servedVersion(n: FixtureNode): Promise<string | undefined> {
  for (const path of ['/', '/-/static/ui-options.js']) {
    const res = await fetch(`${n.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const m = /"version":"([^"]+)"/.exec(await res.text());
    if (res.ok && m) return m[1];
  }
  return undefined;
}

/** Every byte of the SQLite store's files, or every row of every table of the PostgreSQL one. */
async function storeText(s: TestStore): Promise<string> {
  if (s.kind === 'sqlite') {
    const file = s.args[1] as string;
    return [file, `${file}-wal`, `${file}-journal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  }
  const client = new pg.Client({ connectionString: s.env.UPLIFT_DATABASE_URL });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(tables.rows.map((t) => t.name)).toContain('audit');
    const rows: string[] = [];
    for (const t of tables.rows) {
      const r = await client.query(`SELECT row_to_json(x)::text AS j FROM "${t.name}" x`);
      rows.push(...r.rows.map((x: { j: string }) => x.j));
    }
    return rows.join('\n');
  } finally {
    await client.end();
  }
}

describeEachStore('rolling rollout of Verdaccio, with the %s store', (kind) => {
  beforeAll(async () => {
    fleet = await makeVerdaccioDeployment({ nodes: 2, publish: false });
    store = await testStore(kind, fleet.root);
    topology = await writeTopology(join(fleet.root, 'uplift.yaml'), [
      {
        name: 'test',
        deployments: [
          fleet.deployment({
            name: 'registries',
            type: 'rolling',
            rolling: { maxUnavailable: 1 },
            passEnv: Object.keys(fleet.env),
          }),
        ],
      },
    ]);
  }, 900_000);

  it('refuses before anything changes when a passEnv variable is not set', async () => {
    const r = uplift(rolloutArgs({ topology, store }), { env: store.env });

    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    const last = rolloutEnd(r.stdout);
    expect(last.error?.code).toBe('UPLIFT_ROLLOUT_PASS_ENV_UNSET');
    expect(last.error?.message).toMatch(/VERDACCIO_SMOKE_USER, VERDACCIO_SMOKE_PASSWORD/);
    for (const n of fleet.nodes) {
      expect(nodeVersion(n)).toBe(fleet.from);
      expect(await servedVersion(n)).toBe(fleet.from);
    }
  });

  it('upgrades one registry at a time, each passing its gate before the next, and keeps the smoke account secret', async () => {
    const t0 = performance.now();
    const r = await upliftAsync(rolloutArgs({ topology, store }), {
      env: { ...fleet.env, ...store.env },
    });
    const wall = Math.round(performance.now() - t0) / 1000;

    console.log(`rolling rollout of 2 Verdaccio nodes: ${wall} s (${stepTimes(r.stdout)})`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const result = rolloutEnd(r.stdout);
    expect(result.outcome).toBe('passed');

    const audit = uplift(['audit', '--run', result.runId, ...store.args, '--json'], {
      env: store.env,
    });
    const entries = auditEntries(audit);
    expect(
      entries
        .filter((e) => /^node\.(stop|upgrade|start|probe)$/.test(e.action))
        .map((e) => `${e.action} ${e.node} ${e.outcome}`),
    ).toEqual([
      'node.upgrade n1 started',
      'node.upgrade n1 ok',
      'node.probe n1 started',
      'node.probe n1 ok',
      'node.upgrade n2 started',
      'node.upgrade n2 ok',
      'node.probe n2 started',
      'node.probe n2 ok',
    ]);

    for (const n of fleet.nodes) {
      expect(nodeVersion(n)).toBe(fleet.to);
      expect(isRunning(n)).toBe(true);
      expect(await servedVersion(n), n.name).toBe(fleet.to);
    }

    // The password went to the nodes' smoke tests, and nowhere else uplift writes.
    const secret = fleet.password;
    const text = uplift(['audit', '--run', result.runId, ...store.args], { env: store.env });
    for (const out of [r.stdout, r.stderr, audit.stdout, text.stdout])
      expect(out.includes(secret)).toBe(false);
    expect(await storeText(store), 'the state store').not.toContain(secret);
  }, 600_000);
});
