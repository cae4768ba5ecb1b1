import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilJournal } from '../util/apply-kill.ts';
import {
  type FixtureNode,
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import { createTestDatabase, postgresMissing } from '../util/postgres.ts';
import {
  type AuditEntry,
  auditEntries,
  rolloutArgs,
  rolloutEnd,
  runOnPrivateCli,
} from '../util/rollout-e2e.ts';
import { startController } from '../util/rollout-kill.ts';

/**
 * Two rollout controllers against ONE PostgreSQL (issue 13, claims): started at once on an
 * environment of three one-node skiff deployments, every deployment is upgraded exactly once (the
 * audit and each node's own history), no deployment has node actions from both controllers, and
 * the intervals in which each controller held a deployment (claim to finish) never overlap. Then a
 * controller SIGKILLed while it holds a claim: the other claims that deployment at once (the
 * session advisory lock died with the connection) and resumes it.
 */
const pgMissing = postgresMissing();
const { from, to } = SKIFF_ONE_HOP;

runOnPrivateCli({ skip: pgMissing !== undefined });
let scratch: string;
let env: Record<string, string>;

async function auditOf(envName: string): Promise<AuditEntry[]> {
  const args = ['audit', '--env', envName, '--json'];
  return auditEntries(await startController(args, { cwd: scratch, env }).done);
}

/** One standalone deployment per node of `cluster`, in environment `name`. */
async function topologyOf(cluster: SkiffCluster, name: string): Promise<string> {
  return writeTopology(join(cluster.root, 'uplift.yaml'), [
    {
      name,
      deployments: cluster.nodes.map((n) => ({
        ...cluster.deployment({ name: `d-${n.name}`, type: 'standalone' }),
        nodes: [{ name: n.name, at: n.install }],
      })),
    },
  ]);
}

const describePg = pgMissing === undefined ? describe : describe.skip;
if (pgMissing !== undefined && process.env.CI === 'true')
  throw new Error(`PostgreSQL needed under CI: ${pgMissing}`);
if (pgMissing !== undefined) console.warn(`skipping the two-controller tests: ${pgMissing}`);

beforeAll(async () => {
  if (pgMissing !== undefined) return;
  scratch = mkdtempSync(join(tmpdir(), 'uplift-two-controllers-'));
  env = { UPLIFT_DATABASE_URL: await createTestDatabase() };
}, 180_000);

afterAll(async () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describePg('two controllers on one PostgreSQL', () => {
  it('started at once: each deployment is upgraded exactly once, by one controller, in claims that never overlap', async () => {
    const cluster = await makeSkiffCluster({ nodes: 3, from, to, running: true });
    const topology = await topologyOf(cluster, 'test');
    const args = rolloutArgs({ topology });
    const t0 = performance.now();
    const [a, b] = await Promise.all([
      startController(args, { cwd: scratch, env }).done,
      startController(args, { cwd: scratch, env }).done,
    ]);
    console.log(
      `two controllers on 3 deployments: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const why = `A: ${a.code}\n${a.stdout}\n${a.stderr}\nB: ${b.code}\n${b.stdout}\n${b.stderr}`;
    // 0 passed, 4: a deployment was held by the other controller (the others passed).
    for (const r of [a, b]) expect([0, 4], why).toContain(r.code);
    for (const n of cluster.nodes) {
      expect(nodeVersion(n), n.name).toBe(to);
      expect(isRunning(n), n.name).toBe(true);
      expect((await probe(n))?.version, n.name).toBe(to);
      // The node's own history: one run took it from `from` to `to`.
      const h = await startController(['history', '--install', n.install, '--json'], {
        cwd: scratch,
      }).done;
      const runs = (JSON.parse(h.stdout) as { runs: { outcome: string }[] }).runs;
      expect(
        runs.map((r) => r.outcome),
        `${n.name}: ${h.stdout}`,
      ).toEqual(['committed']);
    }

    const audit = await auditOf('test');
    const controllers = [...new Set(audit.map((e) => e.controller))];
    expect(controllers, why).toHaveLength(2);
    for (const n of cluster.nodes) {
      const d = `d-${n.name}`;
      const mine = audit.filter((e) => e.deployment === d);
      const nodeActions = mine.filter((e) => e.action.startsWith('node.'));
      expect(new Set(nodeActions.map((e) => e.controller)).size, `${d}: ${why}`).toBe(1);
      expect(
        nodeActions.filter((e) => e.action === 'node.upgrade' && e.outcome === 'ok'),
        d,
      ).toHaveLength(1);
      // Each controller's hold on the deployment: from its claim to its finish.
      const held = controllers.flatMap((c) => {
        const claim = mine.find(
          (e) => e.controller === c && e.action === 'deployment.claim' && e.outcome === 'ok',
        );
        const done = mine.find((e) => e.controller === c && e.action === 'deployment.finish');
        return claim && done ? [{ c, start: Date.parse(claim.at), end: Date.parse(done.at) }] : [];
      });
      const [x, y] = held;
      if (x && y) expect(x.end <= y.start || y.end <= x.start, JSON.stringify(held)).toBe(true);
      console.log(
        `${d}: node actions by ${nodeActions[0]?.controller}; held by ${held.map((h) => `${h.c} ${h.end - h.start} ms`).join(', ')}; refused ${mine.filter((e) => e.action === 'deployment.claim' && e.outcome === 'refused').length}×`,
      );
    }
    await cluster.dispose();
  }, 300_000);

  it('a controller SIGKILLed while it holds a claim: the other claims the deployment right after and resumes it', async () => {
    const cluster = await makeSkiffCluster({ nodes: 2, from, to, running: true });
    const topology = await topologyOf(cluster, 'kill');
    const args = rolloutArgs({ env: 'kill', topology, yes: false });
    const a = startController([...args, '--yes'], { cwd: scratch, env });
    expect(
      await a.line((e) => e.node === 'n1' && e.step === 'upgrade' && e.state === 'started'),
      a.lines.join('\n'),
    ).toBe(true);
    expect(await untilJournal((cluster.nodes[0] as FixtureNode).install, () => true)).toBe(true);
    a.child.kill('SIGKILL');
    await a.done;
    const killedAt = Date.now();
    const b = await startController([...args, '--resume'], { cwd: scratch, env }).done;
    const why = `${b.stdout}\n${b.stderr}`;
    expect(b.code, why).toBe(0);
    expect(rolloutEnd(b.stdout)).toMatchObject({ type: 'result', outcome: 'passed' });
    for (const n of cluster.nodes) {
      expect(nodeVersion(n), n.name).toBe(to);
      expect((await probe(n))?.version, n.name).toBe(to);
    }
    const audit = await auditOf('kill');
    const killed = audit.find((e) => e.action === 'rollout.start')?.controller;
    const claimed = audit.find(
      (e) =>
        e.controller !== killed &&
        e.deployment === 'd-n1' &&
        e.action === 'deployment.claim' &&
        e.outcome === 'ok',
    );
    expect(claimed, why).toBeDefined();
    expect(
      audit.some(
        (e) =>
          e.deployment === 'd-n1' && e.action === 'deployment.claim' && e.outcome === 'refused',
      ),
    ).toBe(false);
    console.log(
      `the second controller claimed d-n1 ${(Date.parse(claimed?.at as string) - killedAt) / 1000} s after the kill`,
    );
    expect(audit.at(-1)).toMatchObject({ action: 'rollout.finish', outcome: 'ok' });
    await cluster.dispose();
  }, 300_000);
});
