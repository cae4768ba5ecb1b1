import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { uplift, upliftAsync } from '../util/apply-skiff.ts';
import {
  cachedSkiffPacks,
  probe,
  SKIFF_ONE_HOP,
  type SkiffPacks,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  haproxyCommand,
  haproxyPresent,
  type RunningHaproxy,
  startHaproxy,
} from '../util/haproxy.ts';
import {
  auditEntries,
  describeEachStore,
  rolloutArgs,
  runOnPrivateCli,
  type StoreKind,
  type TestStore,
  testStore,
} from '../util/rollout-e2e.ts';
import { startController } from '../util/rollout-kill.ts';
import { repoRoot } from '../util/run-cli.ts';
import { createSkiffPair, type SkiffPair } from '../util/skiff-pair.ts';
import { startTransferLoad, type TransferReport } from '../util/transfer-load.ts';

/**
 * `uplift rollout` of an active/passive skiff pair behind a real HAProxy while a client uploads
 * and downloads without pause through it (issue 13): side a active (`ready`), side b passive (in
 * HAProxy terms: its server in the `drain` admin state, health-checked but sent no new request;
 * docs/topology.md, "Load balancers"). The rollout runs through the built CLI with local nodes
 * and a SQLite state store, then a real PostgreSQL one. Nothing may fail: every transfer succeeds, every checksum matches,
 * every uploaded file downloads again afterwards; the order of the balancer moves and upgrades
 * is read back from the audit log. Then the failure policy: side a's upgrade fails (its smoke
 * test, injected through the deployment's profile), and the run rolls side b back and restores
 * traffic, still without a single failed transfer.
 */
const { from, to } = SKIFF_ONE_HOP;
const backend = 'skiff';

let packs: SkiffPacks;
let scene: Scene | undefined;

interface Scene {
  pair: SkiffPair;
  hp: RunningHaproxy;
  topology: string;
  store: TestStore;
  dispose(): Promise<void>;
}

/** `${name}`: a variable of the profile's commands. */
const variable = (name: string) => `\${${name}}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A copy of skiff's profile whose smoke test fails on a node that has a `fail-smoke` file beside
 * its installation folder (and runs skiff's own smoke test everywhere else): the operator's
 * profile of a pair whose side a cannot pass validation on the new version. Its release trees
 * come from skiff's own script, which finds skiff's build beside it.
 */
async function profileFailingSmokeWhereMarked(dir: string): Promise<string> {
  await cp(join(repoRoot, 'profiles/skiff'), dir, { recursive: true });
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'scripts/smoke-unless-marked.mjs'),
    [
      "import { existsSync } from 'node:fs';",
      "import { dirname, join } from 'node:path';",
      "if (existsSync(join(dirname(process.argv[2]), 'fail-smoke'))) {",
      "  console.log('smoke test failed: injected by the test (fail-smoke)');",
      '  process.exit(1);',
      '}',
      "await import('./smoke.mjs');",
      '',
    ].join('\n'),
  );
  const file = join(dir, 'profile.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  doc.setIn(
    ['lifecycle', 'smoke', 'tests', 0, 'command', 'argv'],
    doc.createNode([
      variable('node'),
      `${variable('profile')}/scripts/smoke-unless-marked.mjs`,
      variable('install'),
    ]),
  );
  // The release tree (apply's merge base) from skiff's own script: it finds skiff's build beside it.
  doc.setIn(
    ['apply', 'releaseTree', 'argv'],
    doc.createNode([
      variable('node'),
      join(repoRoot, 'profiles/skiff/release-tree.mjs'),
      variable('version'),
      variable('out'),
    ]),
  );
  await writeFile(file, doc.toString());
  return dir;
}

/**
 * The pair at `from` (copies of the cached sample, one shared data folder), HAProxy in front with
 * health checks, side b made passive through the runtime API, and the topology naming them.
 */
async function makeScene(
  prefix: string,
  kind: StoreKind,
  o: { failSmokeOnA?: boolean; serverOptions?: Record<string, string> } = {},
): Promise<Scene> {
  const pair = await createSkiffPair({ prefix, template: packs.template });
  let hp: RunningHaproxy | undefined;
  try {
    hp = await startHaproxy({
      backend,
      servers: [
        { name: 'skiff-a', address: pair.sides.a.address, options: o.serverOptions?.['skiff-a'] },
        { name: 'skiff-b', address: pair.sides.b.address, options: o.serverOptions?.['skiff-b'] },
      ],
      check: { path: '/health', interMs: 200 },
    });
    // Passive: b is health-checked but takes no new request (what a rollout leaves it in, too).
    expect(await haproxyCommand(hp.socket, `set server ${backend}/skiff-b state drain`)).toBe('\n');
    let profile = 'skiff';
    if (o.failSmokeOnA) {
      profile = await profileFailingSmokeWhereMarked(join(pair.root, 'profile-skiff'));
      await writeFile(join(pair.root, 'a/fail-smoke'), 'side a fails its smoke test\n');
    }
    const topology = await writeTopology(join(pair.root, 'uplift.yaml'), [
      {
        name: 'test',
        deployments: [
          {
            name: 'pair',
            type: 'active-passive',
            profile,
            to,
            packs: packs.packs,
            trust: packs.trust,
            balancer: { kind: 'haproxy', socket: hp.socket, backend, drainTimeoutSeconds: 60 },
            nodes: [
              { name: 'pa', at: pair.sides.a.install, side: 'a', balancerServer: 'skiff-a' },
              { name: 'pb', at: pair.sides.b.install, side: 'b', balancerServer: 'skiff-b' },
            ],
          },
        ],
      },
    ]);
    const running = hp;
    return {
      pair,
      hp: running,
      topology,
      store: await testStore(kind, pair.root),
      dispose: async () => {
        await running.stop();
        await pair.dispose();
      },
    };
  } catch (err) {
    await hp?.stop();
    await pair.dispose();
    throw err;
  }
}

/** Each server's HAProxy admin state (ready, drain, maint) and whether it is UP. */
async function servers(hp: RunningHaproxy): Promise<Record<string, string>> {
  const text = await haproxyCommand(hp.socket, `show servers state ${backend}`);
  const lines = text.split('\n');
  const header = (lines[1] ?? '').replace(/^#\s*/, '').split(' ');
  const col = (n: string) => header.indexOf(n);
  const out: Record<string, string> = {};
  for (const l of lines.slice(2).filter((x) => x.trim() !== '')) {
    const f = l.trim().split(' ');
    const admin = Number(f[col('srv_admin_state')]);
    const op = Number(f[col('srv_op_state')]);
    out[f[col('srv_name')] as string] =
      `${admin & 0x67 ? 'maint' : admin & 0x18 ? 'drain' : 'ready'}${op === 2 ? ' up' : ' down'}`;
  }
  return out;
}

/** Each server's `srv_admin_state` and `srv_uweight` (`show servers state`). */
async function adminAndWeight(hp: RunningHaproxy): Promise<Record<string, string>> {
  const lines = (await haproxyCommand(hp.socket, `show servers state ${backend}`)).split('\n');
  const header = (lines[1] ?? '').replace(/^#\s*/, '').split(' ');
  const col = (n: string) => header.indexOf(n);
  const out: Record<string, string> = {};
  for (const l of lines.slice(2).filter((x) => x.trim() !== '')) {
    const f = l.trim().split(' ');
    out[f[col('srv_name')] as string] =
      `admin ${f[col('srv_admin_state')]} weight ${f[col('srv_uweight')]}`;
  }
  return out;
}

/** HTTP 2xx answers each server gave through HAProxy so far (`show stat`, `hrsp_2xx`). */
async function answered(hp: RunningHaproxy): Promise<Record<string, number>> {
  const lines = (await haproxyCommand(hp.socket, 'show stat -1 4 -1')).split('\n');
  const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
  const [px, sv, ok] = ['pxname', 'svname', 'hrsp_2xx'].map((n) => header.indexOf(n));
  const out: Record<string, number> = {};
  for (const l of lines.slice(1)) {
    const f = l.split(',');
    if (f[px as number] === backend) out[f[sv as number] as string] = Number(f[ok as number]);
  }
  return out;
}

/** The rollout through the built CLI while the load runs; the load's report after it. */
async function rolloutUnderLoad(s: Scene, label: string) {
  const load = startTransferLoad({
    url: `http://127.0.0.1:${s.hp.port}`,
    account: s.pair.account,
    workers: 4,
    minBytes: 1024,
    maxBytes: 64 * 1024,
    pauseMs: 20,
  });
  await sleep(1000);
  const t0 = performance.now();
  const r = await upliftAsync(rolloutArgs({ topology: s.topology, store: s.store }), {
    env: s.store.env,
  });
  const seconds = (performance.now() - t0) / 1000;
  await sleep(1000);
  const report = await load.stop();
  const lost = report.uploadsOk - report.verify.ok;
  console.log(
    [
      `${label}: ${report.uploadsOk} uploads, ${report.downloadsOk} downloads (${report.crossDownloadsOk} of other workers' files), ${report.uploadsFailed + report.downloadsFailed} failed, ${lost} lost, ${report.checksumMismatches + report.verify.checksumMismatches} checksum mismatches`,
      `  (4 workers, 1-64 KiB files) rollout exit ${r.code} in ${seconds.toFixed(1)} s; load ran ${report.seconds.toFixed(1)} s, ${(report.bytesUp / 1048576).toFixed(1)} MiB up, ${(report.bytesDown / 1048576).toFixed(1)} MiB down`,
      `  final verification: ${report.verify.ok}/${report.verify.files} files downloaded and checked, ${report.verify.failed} failed, ${report.verify.checksumMismatches} mismatched`,
    ].join('\n'),
  );
  return { r, report, lost };
}

function expectNoTransferLost(report: TransferReport, lost: number): void {
  expect(report.failures).toEqual([]);
  expect(report).toMatchObject({
    uploadsFailed: 0,
    downloadsFailed: 0,
    checksumMismatches: 0,
    verify: { failed: 0, checksumMismatches: 0 },
  });
  expect(lost).toBe(0);
  expect(report.verify.files).toBe(report.uploadsOk);
  expect(report.uploadsOk).toBeGreaterThan(0);
}

/** The audit's balancer moves and node actions that ended, in order: `balancer.drain pb (wait) ok`. */
/** The audit's first moves either way: b drained and upgraded, traffic moved to it, a drained. */
const passiveFirst = [
  'balancer.drain pb ok',
  'balancer.drain pb (wait) ok',
  'node.upgrade pb ok',
  'balancer.enable pb ok',
  'balancer.drain pa ok',
  'balancer.drain pa (wait) ok',
];

function nodeActions(store: TestStore): string[] {
  return auditEntries(
    uplift(['audit', '--env', 'test', ...store.args, '--json'], { env: store.env }),
  )
    .filter((e) => /^(balancer|node)\./.test(e.action) && e.outcome !== 'started')
    .map(
      (e) =>
        `${e.action} ${e.node}${e.detail?.wait ? ' (wait)' : ''}${e.detail?.restore ? ' (restore)' : ''} ${e.outcome}`,
    );
}

runOnPrivateCli({ skip: !haproxyPresent() });
describeEachStore(
  'rollout of an active/passive skiff pair behind HAProxy, with the %s store',
  (kind) => {
    if (!haproxyPresent()) {
      if (process.env.CI === 'true')
        it('has HAProxy to test against', () => {
          throw new Error('haproxy is not installed: .ci/run installs it');
        });
      else it.skip('needs HAProxy (apt-get install haproxy)', () => {});
      return;
    }
    beforeAll(async () => {
      packs = await cachedSkiffPacks(from, to);
    }, 600_000);

    afterEach(async () => {
      await scene?.dispose();
      scene = undefined;
    });

    it('upgrades b, then a, while a client transfers without pause: zero failed or lost transfers', async () => {
      scene = await makeScene('uplift-ap-rollout-', kind);
      const s = scene;
      expect(await servers(s.hp)).toEqual({ 'skiff-a': 'ready up', 'skiff-b': 'drain up' });
      const before = await answered(s.hp);

      const { r, report, lost } = await rolloutUnderLoad(s, 'active/passive');
      const after = await answered(s.hp);

      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(/"outcome":"passed"/);
      expectNoTransferLost(report, lost);
      for (const side of ['a', 'b'] as const)
        expect((await probe(s.pair.sides[side].install))?.version, `side ${side}`).toBe(to);
      // The passive side carried the load while a upgraded, and a took it back.
      const carried = (srv: string) => (after[srv] ?? 0) - (before[srv] ?? 0);
      console.log(`  HTTP 2xx through HAProxy: a ${carried('skiff-a')}, b ${carried('skiff-b')}`);
      expect(carried('skiff-b')).toBeGreaterThan(100);
      expect(carried('skiff-a')).toBeGreaterThan(100);
      // a active, b passive again, both UP.
      expect(await servers(s.hp)).toEqual({ 'skiff-a': 'ready up', 'skiff-b': 'drain up' });
      expect(nodeActions(s.store)).toEqual([
        ...passiveFirst,
        'node.upgrade pa ok',
        'balancer.enable pa ok',
        'balancer.drain pb ok',
      ]);
    }, 180_000);

    it('side a fails its upgrade: b is rolled back, traffic restored, still zero failed or lost transfers', async () => {
      scene = await makeScene('uplift-ap-rollback-', kind, { failSmokeOnA: true });
      const s = scene;

      const { r, report, lost } = await rolloutUnderLoad(s, 'active/passive, side a fails');

      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(/"outcome":"rolled-back"/);
      expectNoTransferLost(report, lost);
      for (const side of ['a', 'b'] as const)
        expect((await probe(s.pair.sides[side].install))?.version, `side ${side}`).toBe(from);
      expect(await servers(s.hp)).toEqual({ 'skiff-a': 'ready up', 'skiff-b': 'drain up' });
      expect(nodeActions(s.store)).toEqual([
        ...passiveFirst,
        'node.upgrade pa failed',
        // The failure policy: a (rolled back by its own apply) serves again before b leaves.
        'balancer.enable pa ok',
        'balancer.drain pb ok',
        'balancer.drain pb (wait) ok',
        'node.rollback pb ok',
        'balancer.enable pa (restore) ok',
        'balancer.drain pb (restore) ok',
      ]);
    }, 180_000);

    it('should refuse, before anything changes, a backup server and a server of weight 0', async () => {
      // b a `backup` server (passive the other way HAProxy knows), a set to weight 0 at runtime:
      // enabling either would leave the other side's clients with no server.
      scene = await makeScene('uplift-ap-unfit-', kind, { serverOptions: { 'skiff-b': 'backup' } });
      const s = scene;
      expect(await haproxyCommand(s.hp.socket, `set server ${backend}/skiff-a weight 0`)).toBe(
        '\n',
      );
      const before = await adminAndWeight(s.hp);

      const r = await upliftAsync(rolloutArgs({ topology: s.topology, store: s.store }), {
        env: s.store.env,
      });

      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
      expect(result).toMatchObject({
        outcome: 'failed',
        deployments: [
          { deployment: 'pair', outcome: 'failed', code: 'UPLIFT_BALANCER_SERVER_UNFIT' },
        ],
      });
      expect(result.deployments[0].message).toContain('skiff-a (weight 0), skiff-b (backup)');
      expect(result.deployments[0].message).toContain('nothing was changed');
      // Nothing moved: each server's admin state and weight as before, both sides at the old version.
      expect(await adminAndWeight(s.hp)).toEqual(before);
      for (const side of ['a', 'b'] as const)
        expect((await probe(s.pair.sides[side].install))?.version, `side ${side}`).toBe(from);
      expect(nodeActions(s.store)).toEqual([]);
      const finish = auditEntries(
        uplift(['audit', '--env', 'test', ...s.store.args, '--json'], { env: s.store.env }),
      ).find((e) => e.action === 'deployment.finish');
      expect(finish).toMatchObject({
        outcome: 'failed',
        detail: { code: 'UPLIFT_BALANCER_SERVER_UNFIT' },
      });
    }, 120_000);

    it('should read the servers again on resume: a server set to weight 0 meanwhile stops the resume before its next step', async () => {
      scene = await makeScene('uplift-ap-resume-unfit-', kind);
      const s = scene;
      const rollout = (...more: string[]) =>
        startController(
          rolloutArgs({ topology: s.topology, store: s.store, yes: more.length === 0 }, ...more),
          {
            cwd: s.pair.root,
            env: s.store.env,
          },
        );
      // The controller killed once b runs the new version, before traffic moves to it.
      const first = rollout();
      expect(
        await first.line((e) => e.node === 'pb' && e.step === 'upgrade' && e.state === 'ok'),
      ).toBe(true);
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      // Meanwhile an operator takes b's weight away: enabling b would move no traffic to it.
      expect(await haproxyCommand(s.hp.socket, `set server ${backend}/skiff-b weight 0`)).toBe(
        '\n',
      );
      const before = await adminAndWeight(s.hp);
      const actions = nodeActions(s.store);

      const refused = await rollout('--resume').done;

      expect(refused.code, `${refused.stdout}\n${refused.stderr}`).toBe(1);
      const result = JSON.parse(refused.stdout.trim().split('\n').at(-1) as string);
      expect(result.deployments).toMatchObject([
        { deployment: 'pair', outcome: 'failed', code: 'UPLIFT_BALANCER_SERVER_UNFIT' },
      ]);
      expect(result.deployments[0].message).toContain('skiff-b (weight 0)');
      expect(result.deployments[0].message).toContain('the resume stopped before');
      // Nothing moved: the balancer, the versions and the audit's node actions as the kill left them.
      expect(await adminAndWeight(s.hp)).toEqual(before);
      expect((await probe(s.pair.sides.a.install))?.version).toBe(from);
      expect((await probe(s.pair.sides.b.install))?.version).toBe(to);
      expect(nodeActions(s.store)).toEqual(actions);

      // Weight given back, the next resume finishes the run.
      expect(await haproxyCommand(s.hp.socket, `set server ${backend}/skiff-b weight 1`)).toBe(
        '\n',
      );
      const done = await rollout('--resume').done;
      expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
      for (const side of ['a', 'b'] as const)
        expect((await probe(s.pair.sides[side].install))?.version, `side ${side}`).toBe(to);
      expect(await servers(s.hp)).toEqual({ 'skiff-a': 'ready up', 'skiff-b': 'drain up' });
    }, 180_000);
  },
);
