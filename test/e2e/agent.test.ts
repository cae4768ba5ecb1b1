import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutAgent } from '../../src/rollout/index.ts';
import type { TopologyNode } from '../../src/topology/types.ts';
import {
  type AgentKit,
  installAgent,
  keptKits,
  type NodeTransport,
  nativeKitPackages,
  openTransport,
  packQuietMs,
  putPacks,
  runOnNodes,
} from '../../src/transport/index.ts';
import { nativePackages } from '../../src/util/index.ts';
import { cleanUp, makeSkiffInstall } from '../util/install-tree.ts';
import { repoRoot } from '../util/run-cli.ts';
import { type SshdInstance, type SshdSet, sshdMissing, startSshd } from '../util/sshd.ts';

/**
 * The node agent: uplift's bundle, its native modules, the profile and the packs copied to a node
 * over SSH (real sshd on loopback), run there with the node's Node; a second install copies
 * nothing; a node whose Node cannot run uplift is refused before anything is copied.
 */
const missing = sshdMissing();
if (missing && process.env.CI === 'true') throw new Error(`real sshd needed under CI: ${missing}`);
const suite = missing ? describe.skip : describe;
if (missing) console.warn(`skipping the agent over SSH tests: ${missing}`);

let set: SshdSet;
let sshd: SshdInstance;
let d: string;
let kit: AgentKit;
let install: string;
const open: NodeTransport[] = [];

function sshNode(over: Partial<TopologyNode> = {}): TopologyNode {
  return {
    name: 'node-1',
    nodeRuntime: process.execPath,
    agentDir: join(d, 'agent home'),
    address: { kind: 'ssh', user: 'root', host: '127.0.0.1', port: sshd.port, path: install },
    ssh: {
      hostKey: { kind: 'pinned', key: sshd.hostKeyLine },
      identity: sshd.identityFile,
      connectTimeoutSeconds: 10,
    },
    ...over,
  };
}

async function connect(node: TopologyNode): Promise<NodeTransport> {
  const t = await openTransport(node);
  open.push(t);
  return t;
}

/** A fake runtime on the node: a script that answers the version probe as `info` says. */
function fakeRuntime(name: string, info: Record<string, string>): string {
  const file = join(d, name);
  const answer = JSON.stringify({
    v: process.versions.node,
    modules: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    home: '/root',
    ...info,
  });
  writeFileSync(file, `#!/bin/sh\necho '${answer}'\n`, { mode: 0o755 });
  return file;
}

beforeAll(async () => {
  if (missing) return;
  d = mkdtempSync(join(tmpdir(), 'uplift-agent-'));
  set = await startSshd(1);
  sshd = set.instances[0] as SshdInstance;
  install = (await makeSkiffInstall()).install;
  writeFileSync(join(d, 'trust.json'), '{"keys":[]}\n');
  writeFileSync(join(d, 'a.uplift-pack'), 'not really a pack\n');
  kit = {
    packs: [join(d, 'a.uplift-pack')],
    trust: join(d, 'trust.json'),
    bundle: join(repoRoot, 'dist/bundle/cli.cjs'),
    natives: nativeKitPackages(nativePackages, repoRoot),
    profileDir: join(repoRoot, 'profiles/skiff'),
    files: [{ local: join(d, 'trust.json'), as: 'trust/keys.json' }],
  };
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close().catch(() => undefined)));
  await set?.stopAll();
  if (d) rmSync(d, { recursive: true, force: true });
  await cleanUp();
});

suite('installAgent over SSH', () => {
  it('names the runtime packages of the natives, not their build tools', () => {
    const names = kit.natives.map((p) => p.slice(join(repoRoot, 'node_modules').length + 1));

    expect(names).toEqual(['better-sqlite3', 'bindings', 'file-uri-to-path', 'zstd-napi']);
  });

  it('copies the kit once: a second install copies 0 bytes', async () => {
    const t = await connect(sshNode());

    const first = await installAgent(t, sshNode(), kit);
    const second = await installAgent(t, sshNode(), kit);

    expect(first.copied.files).toBeGreaterThan(10);
    expect(first.copied.bytes).toBeGreaterThan(1_000_000);
    expect(second.copied).toEqual({ files: 0, bytes: 0 });
    expect(second.kitDir).toBe(first.kitDir);
    expect(first.kitDir).toMatch(new RegExp(`^${join(d, 'agent home')}/[0-9a-f]{16}$`));
    const manifest = JSON.parse(readFileSync(join(first.kitDir, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('cli.cjs');
    expect(readFileSync(first.filePath('trust/keys.json'), 'utf8')).toBe('{"keys":[]}\n');
    expect(readFileSync(join(first.packsPath as string, 'a.uplift-pack'), 'utf8')).toBe(
      'not really a pack\n',
    );
    expect(first.trustPath).toBe(join(first.kitDir, 'trust/trust.json'));
    expect(readFileSync(first.trustPath as string, 'utf8')).toBe('{"keys":[]}\n');
  });

  it('copies again only a file that was damaged on the node', async () => {
    const t = await connect(sshNode());
    const agent = await installAgent(t, sshNode(), kit);
    writeFileSync(join(agent.kitDir, 'profiles/skiff/profile.yaml'), 'damaged\n');

    const again = await installAgent(t, sshNode(), kit);

    expect(again.copied.files).toBe(1);
    expect(readFileSync(join(agent.kitDir, 'profiles/skiff/profile.yaml'))).toEqual(
      readFileSync(join(kit.profileDir, 'profile.yaml')),
    );
  });

  it('removes, once a new kit is in, the kits past the three used last that nobody used for a day', async () => {
    expect(keptKits).toBe(3);
    const home = join(d, 'prune home');
    const node = sshNode({ agentDir: home });
    const ago = (hours: number) => new Date(Date.now() - hours * 3600_000);
    /** An older kit whose last use is `hours` ago, told by its .used mark, manifest or folder. */
    const old = (name: string, hours: number, by: 'used' | 'manifest' | 'folder') => {
      const dir = join(home, name);
      mkdirSync(join(dir, 'packs'), { recursive: true });
      writeFileSync(join(dir, 'packs/old.uplift-pack'), 'an old pack\n');
      if (by !== 'folder') {
        const mark = join(dir, by === 'used' ? '.used' : 'manifest.json');
        writeFileSync(mark, '{}\n');
        utimesSync(mark, ago(hours), ago(hours));
      }
      utimesSync(dir, ago(hours), ago(hours));
    };
    old('00000000000000a1', 1, 'used');
    old('00000000000000a2', 2, 'used');
    old('00000000000000a3', 3, 'used'); // past the three, but used within the day
    old('00000000000000b1', 30, 'used');
    old('00000000000000b2', 72, 'manifest'); // from before the .used mark
    old('00000000000000b3', 120, 'folder'); // a copy that never finished
    mkdirSync(join(home, 'notes'));
    utimesSync(join(home, 'notes'), ago(500), ago(500));
    writeFileSync(join(home, '00000000000000f1'), 'a file, not a kit\n');
    const t = await connect(node);

    const agent = await installAgent(t, node, kit);

    expect(agent.pruned.sort()).toEqual([
      '00000000000000b1',
      '00000000000000b2',
      '00000000000000b3',
    ]);
    const left = readdirSync(home).sort();
    expect(left).toEqual(
      [
        '00000000000000a1',
        '00000000000000a2',
        '00000000000000a3',
        '00000000000000f1',
        'notes',
        agent.kitDir.slice(home.length + 1),
      ].sort(),
    );
    expect(existsSync(join(agent.kitDir, '.used'))).toBe(true);
    // A second install copies nothing, so it removes nothing.
    old('00000000000000c1', 200, 'used');
    const again = await installAgent(t, node, kit);
    expect(again.copied.files).toBe(0);
    expect(again.pruned).toEqual([]);
    expect(existsSync(join(home, '00000000000000c1'))).toBe(true);

    // One older kit, however old, is among the three kept.
    const lone = join(d, 'lone home');
    const loneNode = sshNode({ agentDir: lone });
    mkdirSync(join(lone, '00000000000000d1'), { recursive: true });
    writeFileSync(join(lone, '00000000000000d1/.used'), '');
    utimesSync(join(lone, '00000000000000d1/.used'), ago(2000), ago(2000));
    const first = await installAgent(t, loneNode, kit);
    expect(first.pruned).toEqual([]);
    expect(existsSync(join(lone, '00000000000000d1'))).toBe(true);
  });

  it('puts only the packs the node lacks or has damaged, marks them used, and removes the packs nobody sent for a day', async () => {
    expect(packQuietMs).toBe(24 * 3600_000);
    const node = sshNode();
    const dir = join(d, 'packs home', 'packs');
    const ago = (hours: number) => new Date(Date.now() - hours * 3600_000);
    const local = (name: string, text: string) => {
      const file = join(d, `local-${name}`);
      writeFileSync(file, text);
      return { name, local: file, sha256: createHash('sha256').update(text).digest('hex') };
    };
    const wanted = [
      local('p1.upk', 'pack one\n'.repeat(1000)),
      local('p2.upk', 'pack two\n'.repeat(2000)),
    ];
    /** A file in the node's packs folder whose last use is `hours` ago. */
    const there = (name: string, text: string, hours: number) => {
      writeFileSync(join(dir, name), text);
      utimesSync(join(dir, name), ago(hours), ago(hours));
    };
    mkdirSync(join(dir, 'a folder'), { recursive: true });
    there('p1.upk', 'pack one\n'.repeat(1000), 40); // the same bytes: kept, and marked used now
    there('p2.upk', 'damaged', 1); // other bytes: sent again
    there('p2.upk.part', 'pack two\n', 50); // the unfinished copy of a wanted pack: continued
    there('old.upk', 'an old pack', 30);
    there('older.upk.part', 'an unfinished old copy', 48);
    there('recent.upk', 'sent two hours ago, maybe by another controller', 2);
    utimesSync(join(dir, 'a folder'), ago(100), ago(100));
    const t = await connect(node);

    const r = await putPacks(t, node, dir, wanted);
    const again = await putPacks(t, node, dir, wanted);
    const fresh = await putPacks(t, node, join(d, 'packs home', 'not yet'), wanted.slice(0, 1));

    expect(r).toMatchObject({ sent: ['p2.upk'], kept: ['p1.upk'] });
    expect(r.pruned.sort()).toEqual(['old.upk', 'older.upk.part']);
    // The part's 9 matching bytes were kept: only the rest crossed.
    expect(r.bytes).toBe(statSync(wanted[1]?.local as string).size - 9);
    expect(readdirSync(dir).sort()).toEqual(['a folder', 'p1.upk', 'p2.upk', 'recent.upk']);
    expect(readFileSync(join(dir, 'p2.upk'), 'utf8')).toBe('pack two\n'.repeat(2000));
    expect(Date.now() - statSync(join(dir, 'p1.upk')).mtimeMs).toBeLessThan(600_000);
    expect(again).toEqual({ sent: [], kept: ['p1.upk', 'p2.upk'], pruned: [], bytes: 0 });
    expect(fresh).toMatchObject({ sent: ['p1.upk'], kept: [], pruned: [] });
  });

  it('runs --version, status --json and facts (which loads better-sqlite3 from the kit) on the node', async () => {
    const t = await connect(sshNode());
    const agent = await installAgent(t, sshNode(), kit);
    const events: unknown[] = [];

    const version = await agent.run(['--version']);
    const status = await agent.run(
      ['status', '--install', install, '--profile', agent.profileArg, '--json'],
      {
        onEvent: (e) => events.push(e),
      },
    );
    const facts = await agent.run([
      'facts',
      '--install',
      install,
      '--profile',
      agent.profileArg,
      '--json',
    ]);
    const resolved = await t.exec([
      process.execPath,
      '-e',
      "console.log(require.resolve('better-sqlite3', { paths: [process.argv[1]] }))",
      agent.kitDir,
    ]);

    expect(version).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version}\n`,
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json).toMatchObject({ install });
    expect(facts.code, facts.stderr).toBe(0);
    expect(facts.stderr).not.toMatch(/Cannot find module|better_sqlite3\.node/);
    expect(resolved.stdout.trim()).toBe(
      join(agent.kitDir, 'node_modules/better-sqlite3/lib/index.js'),
    );
    expect(agent.profileArg).toBe(join(agent.kitDir, 'profiles/skiff'));
    expect(agent.runtime).toMatchObject({
      version: process.versions.node,
      platform: process.platform,
    });
  });

  it('refuses an old, a missing and a foreign runtime (UPLIFT_NODE_RUNTIME) before copying anything', async () => {
    const t = await connect(sshNode());
    const cases = [
      fakeRuntime('node18', { v: '18.19.0' }),
      fakeRuntime('node20-18', { v: '20.18.1' }),
      fakeRuntime('node-arm', { arch: 'riscv64' }),
      fakeRuntime('node-abi', { modules: '999' }),
      join(d, 'no-such-node'),
    ];

    for (const runtime of cases) {
      const node = sshNode({ nodeRuntime: runtime, agentDir: join(d, 'refused') });
      const err = await installAgent(t, node, kit).catch((e) => e);

      expect(err, runtime).toMatchObject({ code: 'UPLIFT_NODE_RUNTIME' });
      expect(err.message).toContain(runtime);
      expect(err.hint).toMatch(/nodeRuntime/);
    }
    expect(await t.stat(join(d, 'refused'))).toBeUndefined();
  });
});

suite('runOnNodes', () => {
  it('runs one command on several nodes, at most `concurrency` at once, in order', async () => {
    const t = await connect(sshNode());
    const agents = await Promise.all([1, 2, 3].map(() => installAgent(t, sshNode(), kit)));

    const runs = await runOnNodes(agents, () => ['--version'], { concurrency: 2 });

    expect(runs.map((r) => r.result.code)).toEqual([0, 0, 0]);
    expect(runs.map((r) => r.agent)).toEqual(agents);
    expect(runs.every((r) => r.seconds > 0)).toBe(true);
  });
});

suite('installAgent on a local node', () => {
  it("copies nothing and runs this checkout's bundle with the profile where it is", async () => {
    const node: TopologyNode = {
      name: 'here',
      nodeRuntime: process.execPath,
      address: { kind: 'local', path: install },
    };
    const t = await connect(node);

    const agent = await installAgent(t, node, kit);
    // What the rollout executor takes (src/rollout RolloutAgent) is a NodeAgent.
    const forRollout: RolloutAgent = agent;
    const hook = await forRollout.exec?.(['sh', '-c', 'echo hook']);
    const status = await agent.run([
      'status',
      '--install',
      install,
      '--profile',
      agent.profileArg,
      '--json',
    ]);

    expect(agent.copied).toEqual({ files: 0, bytes: 0 });
    expect(agent.kitDir).toBe(join(repoRoot, 'dist/bundle'));
    expect(agent.filePath('trust/keys.json')).toBe(join(d, 'trust.json'));
    expect(agent.packsPath).toBe(d);
    expect(agent.trustPath).toBe(join(d, 'trust.json'));
    expect(hook?.stdout).toBe('hook\n');
    expect(status.code, status.stderr).toBe(0);
    expect(status.json).toMatchObject({ install });
  });
});
