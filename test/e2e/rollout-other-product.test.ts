import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uplift, upliftAsync, usePrivateCli } from '../util/apply-skiff.ts';
import {
  type FixtureNode,
  isRunning,
  makeVerdaccioDeployment,
  nodeVersion,
  stopAll,
  type VerdaccioDeployment,
  writeTopology,
} from '../util/cluster-fixture.ts';

/**
 * The second product through the same rollout: a rolling deployment of two real Verdaccio
 * registries (profiles/verdaccio, local nodes), maxUnavailable 1, upgraded by `uplift rollout`.
 * apply's smoke test on each node publishes with the account the topology's `passEnv` passes
 * from the controller's environment; the password appears in no event, no audit entry and
 * nowhere in the state store. The audit shows one node's upgrade and gate before the next's;
 * each registry then serves the new version to a client.
 */
let cli: { dispose: () => Promise<void> };
let fleet: VerdaccioDeployment;
let topology: string;
let state: string;

/** `n1 upgrade 4.2 s, …`: how long each node step took, from the rollout's --json events. */
const stepTimes = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"node"') && l.includes('"state":"ok"'))
    .map((l) => JSON.parse(l) as { node: string; step: string; seconds: number })
    .map((e) => `${e.node} ${e.step} ${e.seconds} s`)
    .join(', ');

interface AuditEntry {
  action: string;
  outcome: string;
  node?: string;
}

/** The version a running registry serves in its web UI options (5.x in the page, 6.x in ui-options.js). */
async function servedVersion(n: FixtureNode): Promise<string | undefined> {
  for (const path of ['/', '/-/static/ui-options.js']) {
    const res = await fetch(`${n.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const m = /"version":"([^"]+)"/.exec(await res.text());
    if (res.ok && m) return m[1];
  }
  return undefined;
}

const rolloutArgs = () => [
  'rollout',
  '--env',
  'test',
  '--topology',
  topology,
  '--state',
  state,
  '--yes',
  '--json',
];

beforeAll(async () => {
  cli = await usePrivateCli();
  fleet = await makeVerdaccioDeployment({ nodes: 2, publish: false });
  state = join(fleet.root, 'state.db');
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

afterAll(async () => {
  await stopAll();
  await cli?.dispose();
}, 120_000);

describe('rolling rollout of Verdaccio', () => {
  it('refuses before anything changes when a passEnv variable is not set', async () => {
    const r = uplift(rolloutArgs());

    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      error?: { code: string; message: string };
    };
    expect(last.error?.code).toBe('UPLIFT_ROLLOUT_PASS_ENV_UNSET');
    expect(last.error?.message).toMatch(/VERDACCIO_SMOKE_USER, VERDACCIO_SMOKE_PASSWORD/);
    for (const n of fleet.nodes) {
      expect(nodeVersion(n)).toBe(fleet.from);
      expect(await servedVersion(n)).toBe(fleet.from);
    }
  });

  it('upgrades one registry at a time, each passing its gate before the next, and keeps the smoke account secret', async () => {
    const t0 = performance.now();
    const r = await upliftAsync(rolloutArgs(), { env: fleet.env });
    const wall = Math.round(performance.now() - t0) / 1000;

    console.log(`rolling rollout of 2 Verdaccio nodes: ${wall} s (${stepTimes(r.stdout)})`);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      outcome: string;
      runId: string;
    };
    expect(result.outcome).toBe('passed');

    const audit = uplift(['audit', '--run', result.runId, '--state', state, '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { entries: AuditEntry[] }).entries;
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
    const text = uplift(['audit', '--run', result.runId, '--state', state]);
    for (const out of [r.stdout, r.stderr, audit.stdout, text.stdout])
      expect(out.includes(secret)).toBe(false);
    for (const f of [state, `${state}-wal`, `${state}-journal`])
      if (existsSync(f)) expect(readFileSync(f).includes(secret), f).toBe(false);
  }, 600_000);
});
