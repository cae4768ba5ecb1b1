import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upliftAsync } from '../util/apply-skiff.ts';
import { makeBareNodes, SKIFF_ONE_HOP, writeTopology } from '../util/cluster-fixture.ts';
import { rolloutArgs, runOnPrivateCli, sshNode } from '../util/rollout-e2e.ts';
import { type SshdInstance, type SshdSet, sshdMissing, startSshd } from '../util/sshd.ts';
import { hashTree } from '../util/tree-hash.ts';

/**
 * `uplift check --env` through the built CLI on three real skiff installations: a local node, a
 * node over SSH (real sshd on loopback, the kit copied there, run with this Node) and a node over
 * SSH whose nodeRuntime is a script answering as Node 18. The old runtime is that node's failed
 * check (UPLIFT_NODE_RUNTIME), the others report their own checks, the exit code is 3, nothing
 * in any installation changed, and `uplift fleet` shows each node's last check.
 */
const missing = sshdMissing();
if (missing && process.env.CI === 'true') throw new Error(`real sshd needed under CI: ${missing}`);
const suite = missing ? describe.skip : describe;
if (missing) console.warn(`check-env.test.ts skipped: ${missing}`);

runOnPrivateCli({ skip: Boolean(missing) });
let set: SshdSet;
let d: string;
let topology: string;
let state: string;
let nodes: Awaited<ReturnType<typeof makeBareNodes>>;
let installs: string[];

const json = (s: string) => JSON.parse(s) as Record<string, unknown>;
const hashAll = () => Promise.all(installs.map((i) => hashTree(i)));

beforeAll(async () => {
  if (missing) return;
  d = mkdtempSync(join(tmpdir(), 'uplift-check-env-'));
  [set, nodes] = await Promise.all([startSshd(1), makeBareNodes(3)]);
  const sshd = set.instances[0] as SshdInstance;
  installs = nodes.nodes.map((n) => n.install);
  // What a Node 18 answers to the agent's runtime probe.
  const node18 = join(d, 'node18');
  const answer = JSON.stringify({
    v: '18.19.0',
    modules: '108',
    platform: process.platform,
    arch: process.arch,
    home: d,
  });
  writeFileSync(node18, `#!/bin/sh\necho '${answer}'\n`, { mode: 0o755 });
  const agentDir = join(d, 'agent');
  const [n1, n2, n3] = installs as [string, string, string];
  const base = {
    profile: 'skiff',
    to: SKIFF_ONE_HOP.to,
    packs: nodes.packs.packs,
    trust: nodes.packs.trust,
  };
  state = join(d, 'state.db');
  topology = await writeTopology(join(d, 'uplift.yaml'), [
    {
      name: 'test',
      deployments: [
        { ...base, name: 'here', type: 'standalone', nodes: [{ name: 'n1', at: n1 }] },
        {
          ...base,
          name: 'remote',
          type: 'enterprise-cluster',
          nodes: [
            sshNode(sshd, { name: 'n2', install: n2 }, { agentDir }),
            sshNode(sshd, { name: 'old', install: n3 }, { agentDir, nodeRuntime: node18 }),
          ],
        },
      ],
    },
  ]);
}, 600_000);

afterAll(async () => {
  await set?.stopAll();
  await nodes?.dispose();
  if (d) rmSync(d, { recursive: true, force: true });
});

suite('uplift check --env', () => {
  it('refuses --install with --env, and neither, with exit 2 (UPLIFT_USAGE)', async () => {
    const [both, neither] = await Promise.all([
      upliftAsync(['check', '--env', 'test', '--install', d, '--topology', topology, '--json']),
      upliftAsync(['check', '--topology', topology, '--json']),
    ]);

    for (const r of [both, neither]) {
      expect(r.code, r.stderr).toBe(2);
      expect(json(r.stdout)).toMatchObject({ error: { code: 'UPLIFT_USAGE' } });
    }
    expect(json(both.stdout)).toMatchObject({
      error: { message: expect.stringMatching(/--install and --env/) },
    });
  });

  it('reports the old runtime as that node’s failed check, the others’ own checks, exit 3, and changes nothing', async () => {
    const before = await hashAll();

    const r = await upliftAsync([
      'check',
      '--env',
      'test',
      '--topology',
      topology,
      '--state',
      state,
      '--json',
    ]);
    const text = await upliftAsync([
      'check',
      '--env',
      'test',
      '--topology',
      topology,
      '--state',
      state,
      '--concurrency',
      '1',
    ]);

    expect(r.code, r.stderr).toBe(3);
    const doc = json(r.stdout) as {
      env: string;
      summary: Record<string, number>;
      deployments: {
        name: string;
        nodes: {
          name: string;
          status: string;
          checks: { id: string; status: string; code?: string; remediation?: string }[];
          report: { from: string; to: string } | null;
        }[];
      }[];
    };
    const byName = Object.fromEntries(
      doc.deployments.flatMap((dep) => dep.nodes.map((n) => [n.name, n])),
    );
    expect(doc.deployments.map((x) => [x.name, x.nodes.map((n) => n.name)])).toEqual([
      ['here', ['n1']],
      ['remote', ['n2', 'old']],
    ]);
    expect(byName.old).toMatchObject({ status: 'fail', report: null });
    expect(byName.old?.checks).toEqual([
      expect.objectContaining({ id: 'reachable', status: 'pass' }),
      expect.objectContaining({
        id: 'node-runtime',
        status: 'fail',
        code: 'UPLIFT_NODE_RUNTIME',
        remediation: expect.stringMatching(/nodeRuntime/),
      }),
      expect.objectContaining({ id: 'pre-upgrade', status: 'skip' }),
    ]);
    for (const n of [byName.n1, byName.n2]) {
      // Stopped installations without a backup: the backup check warns, nothing fails.
      expect(n).toMatchObject({
        status: 'warn',
        report: { from: SKIFF_ONE_HOP.from, to: SKIFF_ONE_HOP.to },
      });
      expect(n?.checks.slice(0, 2).map((c) => [c.id, c.status])).toEqual([
        ['reachable', 'pass'],
        ['node-runtime', 'pass'],
      ]);
      expect(n?.checks.find((c) => c.id === 'backup')).toMatchObject({ status: 'warn' });
    }
    expect(doc.summary).toEqual({ nodes: 3, pass: 0, warn: 2, fail: 1 });
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(
      /^1 node failed: fix it before upgrading — 3 nodes: 0 ready, 2 warned, 1 failed/,
    );
    // The text wraps to 80 columns: match within a node's block.
    const oldBlock = text.stdout.slice(text.stdout.indexOf('\n    old  failed'));
    expect(oldBlock).toMatch(/^\n {4}old {2}failed — 1 passed, 0 warned, 1 failed, 1 skipped/);
    expect(oldBlock).toMatch(/\n {6}Failed \(1\): .*\n {8}• node-runtime: UPLIFT_NODE_RUNTIME /);
    expect(oldBlock).toMatch(/Node\.js 18\.19\.0/);
    expect(oldBlock).toMatch(/\n {10}to do: Install Node\.js/);
    expect(text.stdout).toMatch(/\n {2}remote {2}\(enterprise-cluster, skiff → /);
    expect(await hashAll()).toEqual(before);
  }, 300_000);

  it('fleet shows each node’s last check; rollout’s survey refuses the old runtime too', async () => {
    const [fleet, rollout] = await Promise.all([
      upliftAsync(['fleet', '--env', 'test', '--topology', topology, '--state', state, '--json']),
      upliftAsync(rolloutArgs({ topology, state, yes: false }, '--dry-run')),
    ]);

    expect(fleet.code, fleet.stderr).toBe(0);
    const nodesOf = (
      json(fleet.stdout) as {
        environments: { deployments: { nodes: { name: string; lastCheck: unknown }[] }[] }[];
      }
    ).environments[0]?.deployments.flatMap((x) => x.nodes);
    const last = Object.fromEntries((nodesOf ?? []).map((n) => [n.name, n.lastCheck]));
    expect(last.old).toMatchObject({
      status: 'fail',
      failed: ['node-runtime'],
      code: 'UPLIFT_NODE_RUNTIME',
      at: expect.stringMatching(/^\d{4}-/),
    });
    expect(last.n1).toMatchObject({ status: 'warn', fail: 0 });
    expect(last.n2).toMatchObject({ status: 'warn', fail: 0 });
    expect(rollout.code).toBe(1);
    expect(rollout.stdout).toMatch(/UPLIFT_ROLLOUT_NODE_UNREACHABLE/);
    expect(rollout.stdout).toMatch(/remote\/old: UPLIFT_NODE_RUNTIME/);
  }, 300_000);
});
