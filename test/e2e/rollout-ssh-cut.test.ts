import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilJournal } from '../util/apply-kill.ts';
import { stateDir } from '../util/apply-skiff.ts';
import {
  type FixtureNode,
  isRunning,
  makeSkiffCluster,
  nodeVersion,
  probe,
  SKIFF_ONE_HOP,
  writeTopology,
} from '../util/cluster-fixture.ts';
import { postgresMissing } from '../util/postgres.ts';
import {
  rolloutArgs,
  rolloutEnd,
  runOnPrivateCli,
  type StoreKind,
  sshNode,
  testStore,
} from '../util/rollout-e2e.ts';
import { startController, watchVersions } from '../util/rollout-kill.ts';
import { type SshdInstance, type SshdSet, sshdMissing, startSshd } from '../util/sshd.ts';

/**
 * A rollout whose nodes are reached over SSH (real OpenSSH on loopback, one sshd per node) when a
 * node's sshd is stopped mid-rollout, cutting its connection (the session's processes included):
 * the controller fails on its own, and at no moment do two nodes of the standard cluster run
 * different versions (sampled from every node's process and /health). Once sshd is back,
 * `rollout --resume` (or `--resume --abort`) finishes or rolls back. The cases take turns with
 * the SQLite store and a real PostgreSQL (both stores run every kill case in rollout-kill.test.ts;
 * three more SSH cases each would cost CI minutes for no new path).
 */
const missing = sshdMissing();
if (missing && process.env.CI === 'true') throw new Error(`real sshd needed under CI: ${missing}`);
const suite = missing ? describe.skip : describe;
if (missing) console.warn(`skipping the rollout SSH cut tests: ${missing}`);

const { from, to } = SKIFF_ONE_HOP;
runOnPrivateCli({ skip: Boolean(missing) });
let set: SshdSet;
let scratch: string;

beforeAll(async () => {
  if (missing) return;
  set = await startSshd(3);
  scratch = mkdtempSync(join(tmpdir(), 'uplift-rollout-ssh-'));
}, 120_000);

afterAll(async () => {
  await set?.stopAll();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Cut {
  title: string;
  /** The node whose sshd is stopped (0-based). */
  node: number;
  /** The event after which it is cut. */
  when: (e: Record<string, unknown>) => boolean;
  /** Also wait for this node's journal to hold a record (its apply is under way). */
  journal?: boolean;
  abort: boolean;
  store: StoreKind;
}

const cuts: Cut[] = [
  {
    title: "n2's connection cut during its apply, then --resume",
    node: 1,
    when: (e) => e.node === 'n2' && e.step === 'upgrade' && e.state === 'started',
    journal: true,
    abort: false,
    store: 'sqlite',
  },
  {
    title: "n3's connection cut once n1 is upgraded (before n3's turn), then --resume --abort",
    node: 2,
    when: (e) => e.node === 'n1' && e.step === 'upgrade' && e.state === 'ok',
    abort: true,
    store: 'postgres',
  },
  {
    title: "n1's connection cut while the cluster starts on the new version, then --resume",
    node: 0,
    when: (e) => e.node === 'n1' && e.step === 'start' && e.state === 'started',
    abort: false,
    store: 'postgres',
  },
];

suite('a rollout over SSH whose connection to a node is cut', () => {
  it.each(cuts)(
    '$title ($store store): the controller fails, never two versions run, the resume ends it',
    async (cut) => {
      const pgMissing = postgresMissing();
      if (cut.store === 'postgres' && pgMissing !== undefined) {
        if (process.env.CI === 'true') throw new Error(pgMissing);
        console.warn(`no PostgreSQL (${pgMissing}): this case runs with SQLite`);
      }
      const cluster = await makeSkiffCluster({ nodes: 3, from, to, running: true });
      // The merge base of `from`, as an earlier uplift upgrade would have kept it: skiff's profile
      // makes it with a script that needs this checkout's products/skiff (release-tree.mjs), which
      // the agent kit on an SSH node does not carry.
      for (const n of cluster.nodes) {
        const vendor = join(stateDir(n.install), 'vendor', from.replace(/[^A-Za-z0-9._-]/g, '-'));
        mkdirSync(vendor, { recursive: true, mode: 0o700 });
        cpSync(
          join(cluster.releases, from.replace(/[^A-Za-z0-9._-]/g, '-'), 'tree'),
          join(vendor, 'tree'),
          {
            recursive: true,
          },
        );
      }
      const sshd = set.instances;
      const topology = await writeTopology(join(cluster.root, 'uplift.yaml'), [
        {
          name: 'test',
          deployments: [
            cluster.deployment({
              name: 'std',
              type: 'standard-cluster',
              concurrency: 3,
              // One agent folder per node, kept across the cases: the kit is copied once.
              nodes: cluster.nodes.map((n, i) =>
                sshNode(sshd[i] as SshdInstance, n, { agentDir: join(scratch, `agent-${n.name}`) }),
              ),
            }),
          ],
        },
      ]);
      const store = await testStore(pgMissing === undefined ? cut.store : 'sqlite', cluster.root);
      const args = rolloutArgs({ topology, store, yes: false });
      const watch = watchVersions(cluster.nodes);
      const victim = sshd[cut.node];
      let down = false;
      try {
        const c = startController([...args, '--yes'], { cwd: scratch, env: store.env });
        expect(await c.line(cut.when), c.lines.join('\n')).toBe(true);
        if (cut.journal)
          expect(
            await untilJournal((cluster.nodes[cut.node] as FixtureNode).install, () => true),
          ).toBe(true);
        const t0 = performance.now();
        down = true;
        await victim?.stop();
        const first = await c.done;
        const failedIn = (performance.now() - t0) / 1000;
        const why = `${first.stdout}\n${first.stderr}`;
        const result = rolloutEnd(first.stdout);
        console.log(
          `${cut.title}: the controller ended in ${failedIn.toFixed(1)} s after the cut, exit ${first.code}, ${JSON.stringify(result)}`,
        );
        expect(first.signal, why).toBe(null);
        expect([1, 5], why).toContain(first.code);
        expect(['failed', 'rolled-back'], why).toContain(result.outcome);
        expect(watch.violations, why).toEqual([]);

        await victim?.restart();
        down = false;
        const r = await startController([...args, '--resume', ...(cut.abort ? ['--abort'] : [])], {
          cwd: scratch,
          env: store.env,
        }).done;
        await watch.stop();
        const end = rolloutEnd(r.stdout);
        const why2 = `${r.stdout}\n${r.stderr}`;
        expect(watch.violations, why2).toEqual([]);
        expect(end.outcome, why2).toBe(cut.abort ? 'rolled-back' : 'passed');
        expect(r.code, why2).toBe(cut.abort ? 1 : 0);
        const at = cut.abort ? from : to;
        for (const n of cluster.nodes) {
          expect(nodeVersion(n), n.name).toBe(at);
          expect(isRunning(n), n.name).toBe(true);
          expect((await probe(n))?.version, n.name).toBe(at);
        }
        console.log(`  resume: ${end.outcome}; ${watch.samples} samples, no mixed versions`);
      } finally {
        await watch.stop();
        if (down) await victim?.restart().catch(() => undefined);
        await cluster.dispose();
      }
    },
    300_000,
  );
});
