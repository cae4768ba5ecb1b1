import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TopologyNode } from '../src/topology/types.ts';
import {
  type AgentKit,
  installAgent,
  type NodeAgent,
  type NodeTransport,
  nativeKitPackages,
  openTransport,
  runOnNodes,
} from '../src/transport/index.ts';
import { mapLimit, nativePackages } from '../src/util/index.ts';
import { loadSkiff } from '../test/util/apply-skiff.ts';
import {
  makeBareNodes,
  makeSkiffCluster,
  nodeVersion,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../test/util/cluster-fixture.ts';
import { type SshdSet, startSshd } from '../test/util/sshd.ts';
import { snapshotDist } from './measure.ts';
import { median, percentile, round } from './stats.ts';

/**
 * The fleet: what uplift costs across many nodes (issue 13).
 *
 * 1. Facts and checks over SSH. `sshd` real OpenSSH servers on loopback (test/util/sshd.ts), each
 *    standing for a host with `nodesPerSshd` installations on it (test/util/cluster-fixture.ts
 *    makeBareNodes: stopped copies of the skiff sample), each host with its own agent folder. One
 *    SSH connection per node (as `uplift rollout` opens them). The agent is installed on the first
 *    node of each host at once (the kit copied over SFTP: first-install time, files and bytes),
 *    then on every node (0 bytes: the kit is there). Then `facts --install P --json` and `check
 *    --install P --json` on every node through runOnNodes, `concurrency` at once and one at a
 *    time: wall times, nodes/s and the speed-up. The baselines say how much of it is SSH: the same
 *    number of `ssh -i key -p port root@127.0.0.1 true` with the OpenSSH client (a new connection
 *    each, as a shell loop over hosts would), one at a time and with `xargs -P concurrency`, and
 *    `true` run over the already open connections (what a command costs SSH once connected).
 * 2. A rolling rollout's controller overhead. `rolloutNodes` real skiff installations on this
 *    machine (local nodes), running at 5.3.0 GA, in one `rolling` deployment (maxUnavailable
 *    `maxUnavailable`), rolled out to 5.3.0 Patch 1 by the built CLI (`uplift rollout --json`,
 *    SQLite state). The nodes' runtime is a wrapper that logs when each node command starts and
 *    ends. Overhead per node = (rollout wall time − the node commands on the critical path) / nodes,
 *    counted two ways: from the `--json` events (per batch the slowest upgrade plus the slowest
 *    gate; the survey before the batches counts as overhead), and from the wrapper's log (the time
 *    any node command ran: the survey's status and plan commands count as node time). The
 *    controller's own CPU time and peak RSS come from process.resourceUsage() in the controller
 *    process (a preload), so the node commands it starts are not counted in them.
 * The machine has few cores (2 where these figures were taken): node commands in parallel share
 * them, so the speed-ups say more about waiting (SSH, process start) than about work.
 */

export interface FleetBenchOptions {
  root: string;
  /** Nodes reached over SSH (50). */
  sshNodes?: number;
  /** sshd instances they are spread over (5). */
  sshd?: number;
  /** Node commands at once (10). */
  concurrency?: number;
  /** Skiff nodes in the rolling rollout (50). */
  rolloutNodes?: number;
  /** The rolling deployment's maxUnavailable (10). */
  maxUnavailable?: number;
  log?: (line: string) => void;
}

/** One command over all the nodes at one concurrency. */
export interface FleetRun {
  command: string;
  concurrency: number;
  nodes: number;
  seconds: number;
  nodesPerSecond: number;
  /** One node's command as the controller timed it: median and p95. */
  perNodeMedianSeconds?: number;
  perNodeP95Seconds?: number;
  /** Exit codes and how many nodes gave each. */
  exitCodes?: Record<string, number>;
}

export interface FleetPair {
  parallel: FleetRun;
  sequential: FleetRun;
  /** sequential ÷ parallel wall time. */
  speedup: number;
}

export interface FleetSshFigures {
  nodes: number;
  sshd: number;
  nodesPerSshd: number;
  concurrency: number;
  /** Opening the SSH connections (one per node), `concurrency` at once. */
  connectSeconds: number;
  install: {
    /** The kit copied to the first node of each host, all hosts at once. */
    first: { hosts: number; seconds: number; filesPerHost: number; bytesPerHost: number };
    /** Installing on every node afterwards: nothing copied. */
    second: { nodes: number; seconds: number; files: number; bytes: number };
  };
  facts: FleetPair;
  check: FleetPair;
  baseline: {
    /** `ssh … root@127.0.0.1 true` with the OpenSSH client, a new connection each. */
    openssh: FleetPair;
    /** `true` over the open ssh2 connections (runOnNodes' transport, no handshake). */
    openConnection: FleetPair;
  };
}

export interface FleetRolloutFigures {
  nodes: number;
  maxUnavailable: number;
  batches: number;
  from: string;
  to: string;
  outcome: string;
  /** The rollout process from spawn to exit. */
  wallSeconds: number;
  /** The controller process alone (not the node commands it ran). */
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  peakRssMB: number;
  /** From the events: per batch the slowest upgrade + the slowest gate, summed. */
  eventsCriticalPathSeconds: number;
  eventsOverheadPerNodeSeconds: number;
  upgradeMedianSeconds: number;
  gateMedianSeconds: number;
  /** From the runtime wrapper's log: every node command (survey included). */
  nodeCommands: number;
  nodeCommandsByVerb: Record<string, number>;
  /** Time at least one node command ran. */
  nodeCommandsBusySeconds: number;
  overheadPerNodeSeconds: number;
  /** From spawn to the first `node` event (store, topology, connections, survey). */
  beforeFirstStepSeconds: number;
}

export interface FleetFigures {
  cores: number;
  loadAverageAtStart: number[];
  ssh: FleetSshFigures | null;
  sshError: string | null;
  rollout: FleetRolloutFigures | null;
  rolloutError: string | null;
}

const now = () => performance.now();
const secondsSince = (t0: number) => round((now() - t0) / 1000);

function runFigures(
  command: string,
  concurrency: number,
  seconds: number,
  per: number[] = [],
  codes: (number | null)[] = [],
): FleetRun {
  const exitCodes: Record<string, number> = {};
  for (const c of codes) exitCodes[String(c)] = (exitCodes[String(c)] ?? 0) + 1;
  return {
    command,
    concurrency,
    nodes: Math.max(per.length, codes.length),
    seconds: round(seconds),
    nodesPerSecond: round(Math.max(per.length, codes.length) / seconds),
    ...(per.length === 0
      ? {}
      : {
          perNodeMedianSeconds: round(median(per)),
          perNodeP95Seconds: round(percentile(per, 95)),
        }),
    ...(codes.length === 0 ? {} : { exitCodes }),
  };
}

const pair = (parallel: FleetRun, sequential: FleetRun): FleetPair => ({
  parallel,
  sequential,
  speedup: round(sequential.seconds / parallel.seconds),
});

/** A command run to its end: exit code, output, seconds. */
function runToEnd(
  cmd: string,
  args: string[],
  o: { input?: string; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (now() - t0) / 1000 }));
    child.stdin.end(o.input ?? '');
  });
}

async function benchSsh(
  o: Required<Pick<FleetBenchOptions, 'sshNodes' | 'sshd' | 'concurrency'>> & {
    root: string;
    bundle: string;
    log: (s: string) => void;
  },
): Promise<FleetSshFigures> {
  const perHost = Math.ceil(o.sshNodes / o.sshd);
  let set: SshdSet | undefined;
  let bare: Awaited<ReturnType<typeof makeBareNodes>> | undefined;
  const transports: NodeTransport[] = [];
  try {
    o.log(`  fleet: ${o.sshd} sshd on loopback, ${o.sshNodes} skiff installations`);
    [set, bare] = await Promise.all([startSshd(o.sshd), makeBareNodes(o.sshNodes)]);
    const sshd = set.instances;
    const hostOf = (i: number) => Math.floor(i / perHost);
    const nodes: TopologyNode[] = bare.nodes.map((n, i) => {
      const s = sshd[hostOf(i)];
      if (s === undefined) throw new Error(`no sshd for node ${i}`);
      return {
        name: n.name,
        nodeRuntime: process.execPath,
        // Each sshd stands for a host: its own agent folder, shared by its nodes.
        agentDir: join(bare?.root as string, `host${hostOf(i) + 1}-agent`),
        address: { kind: 'ssh', user: 'root', host: '127.0.0.1', port: s.port, path: n.install },
        ssh: {
          hostKey: { kind: 'pinned', key: s.hostKeyLine },
          identity: s.identityFile,
          connectTimeoutSeconds: 30,
        },
      };
    });
    const kit: AgentKit = {
      bundle: o.bundle,
      natives: nativeKitPackages(nativePackages, o.root),
      profileDir: join(o.root, 'profiles/skiff'),
      files: [],
    };

    let t0 = now();
    const opened = await mapLimit(nodes, o.concurrency, async (n) => {
      const t = await openTransport(n);
      transports.push(t);
      return t;
    });
    const connectSeconds = secondsSince(t0);
    o.log(`  fleet: ${nodes.length} SSH connections in ${connectSeconds} s`);

    const firsts = sshd.map((_, h) => h * perHost).filter((i) => i < nodes.length);
    t0 = now();
    const first = await Promise.all(
      firsts.map((i) => installAgent(opened[i] as NodeTransport, nodes[i] as TopologyNode, kit)),
    );
    const firstSeconds = secondsSince(t0);
    t0 = now();
    const agents = await mapLimit(nodes, o.concurrency, (n, i) =>
      installAgent(opened[i] as NodeTransport, n, kit),
    );
    const secondSeconds = secondsSince(t0);
    const install = {
      first: {
        hosts: first.length,
        seconds: firstSeconds,
        filesPerHost: Math.max(...first.map((a) => a.copied.files)),
        bytesPerHost: Math.max(...first.map((a) => a.copied.bytes)),
      },
      second: {
        nodes: agents.length,
        seconds: secondSeconds,
        files: agents.reduce((s, a) => s + a.copied.files, 0),
        bytes: agents.reduce((s, a) => s + a.copied.bytes, 0),
      },
    };
    o.log(
      `  fleet: agent kit ${install.first.filesPerHost} files, ${(install.first.bytesPerHost / 1e6).toFixed(1)} MB to each of ${first.length} hosts in ${firstSeconds} s; again on ${agents.length} nodes: ${install.second.bytes} bytes in ${secondSeconds} s`,
    );

    const installOf = new Map(agents.map((a, i) => [a, nodes[i]?.address.path as string]));
    const command = async (verb: 'facts' | 'check', concurrency: number) => {
      const start = now();
      const runs = await runOnNodes(
        agents,
        (a: NodeAgent) => [
          verb,
          '--install',
          installOf.get(a) as string,
          '--profile',
          a.profileArg,
          '--json',
        ],
        { concurrency, timeoutMs: 300_000 },
      );
      const seconds = (now() - start) / 1000;
      // facts exits 0; check exits 0, or 3 when a check fails (these stopped copies may warn).
      const bad = runs.filter(
        (r) => !(r.result.code === 0 || (verb === 'check' && r.result.code === 3)),
      );
      if (bad.length > 0)
        throw new Error(
          `${verb} failed on ${bad.length} nodes: exit ${bad[0]?.result.code}: ${bad[0]?.result.stderr.slice(-500)}`,
        );
      const f = runFigures(
        `uplift ${verb} --install P --json`,
        concurrency,
        seconds,
        runs.map((r) => r.seconds),
        runs.map((r) => r.result.code),
      );
      o.log(`  fleet: ${verb} × ${runs.length}, ${concurrency} at once: ${f.seconds} s`);
      return f;
    };
    const facts = pair(await command('facts', o.concurrency), await command('facts', 1));
    const check = pair(await command('check', o.concurrency), await command('check', 1));

    const exec = async (concurrency: number) => {
      const start = now();
      const runs = await mapLimit(opened, concurrency, async (t) => {
        const s = now();
        const r = await t.exec(['true'], { timeoutMs: 60_000 });
        if (r.code !== 0) throw new Error(`true over ${t.label} exited ${r.code}`);
        return (now() - s) / 1000;
      });
      return runFigures('true over the open connection', concurrency, (now() - start) / 1000, runs);
    };
    const openConnection = pair(await exec(o.concurrency), await exec(1));

    // The OpenSSH client: a new connection per node, as a loop over hosts would do.
    const knownHosts = join(bare.root, 'known_hosts');
    writeFileSync(knownHosts, sshd.map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`).join(''));
    const identity = sshd[0]?.identityFile as string;
    const ports = nodes.map((n) => (n.address.kind === 'ssh' ? n.address.port : 0)).join('\n');
    const openssh = async (concurrency: number) => {
      const args = [
        '-P',
        String(concurrency),
        '-I{}',
        'ssh',
        '-F',
        '/dev/null',
        '-i',
        identity,
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'LogLevel=ERROR',
        '-p',
        '{}',
        'root@127.0.0.1',
        'true',
      ];
      const r = await runToEnd('xargs', args, { input: `${ports}\n` });
      if (r.code !== 0) throw new Error(`xargs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      const cmd =
        concurrency === 1
          ? 'ssh -i key -p port root@127.0.0.1 true, one at a time'
          : `xargs -P ${concurrency} ssh -i key -p port root@127.0.0.1 true`;
      return runFigures(cmd, concurrency, r.seconds, [], Array(nodes.length).fill(0));
    };
    const opensshPair = pair(await openssh(o.concurrency), await openssh(1));
    o.log(
      `  fleet: ssh true × ${nodes.length}: ${opensshPair.parallel.seconds} s (-P ${o.concurrency}), ${opensshPair.sequential.seconds} s (one at a time)`,
    );

    return {
      nodes: nodes.length,
      sshd: o.sshd,
      nodesPerSshd: perHost,
      concurrency: o.concurrency,
      connectSeconds,
      install,
      facts,
      check,
      baseline: { openssh: opensshPair, openConnection },
    };
  } finally {
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
    await set?.stopAll();
    await bare?.dispose();
  }
}

/** The intervals' union length (seconds), each clipped to [from, to]. */
function busySeconds(intervals: [number, number][], from: number, to: number): number {
  const sorted = intervals
    .map(([a, b]): [number, number] => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  let start = 0;
  for (const [a, b] of sorted) {
    if (a > end) {
      if (end > Number.NEGATIVE_INFINITY) total += end - start;
      start = a;
      end = b;
    } else end = Math.max(end, b);
  }
  if (end > Number.NEGATIVE_INFINITY) total += end - start;
  return total / 1000;
}

async function benchRollout(o: {
  root: string;
  cli: string;
  dir: string;
  nodes: number;
  maxUnavailable: number;
  log: (s: string) => void;
}): Promise<FleetRolloutFigures> {
  const { from, to } = SKIFF_ONE_HOP;
  let cluster: SkiffCluster | undefined;
  try {
    o.log(`  fleet: ${o.nodes} skiff nodes at ${from}, starting them`);
    cluster = await makeSkiffCluster({ nodes: o.nodes, from, to, running: false });
    const skiff = await loadSkiff();
    await mapLimit(cluster.nodes, 10, (n) => skiff.startInstallation(n.install));

    // The nodes' runtime: logs each node command's start and end (epoch ms) and its verb.
    const log = join(o.dir, 'node-commands.log');
    const wrapper = join(o.dir, 'node-timed');
    writeFileSync(log, '');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        's=$(date +%s%N)',
        `'${process.execPath}' "$@"`,
        'rc=$?',
        'e=$(date +%s%N)',
        `case "$1" in -p) v=runtime-check;; -*) v=script;; *) v="$2"; [ "$2" = service ] && v="service-$3";; esac`,
        `echo "$s $e $rc $v" >> '${log}'`,
        'exit $rc',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    // The controller's own resources, written when it exits (not inherited by node commands).
    const usageFile = join(o.dir, 'usage.json');
    const preload = join(o.dir, 'usage.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(usageFile)}, JSON.stringify(process.resourceUsage())));\n`,
    );
    const topology = await writeTopology(join(o.dir, 'uplift.yaml'), [
      {
        name: 'bench',
        deployments: [
          cluster.deployment({
            name: 'fleet',
            type: 'rolling',
            rolling: { maxUnavailable: o.maxUnavailable },
            nodes: cluster.nodes.map((n) => ({
              name: n.name,
              at: n.install,
              nodeRuntime: wrapper,
            })),
          }),
        ],
      },
    ]);

    o.log(`  fleet: uplift rollout of ${o.nodes} nodes (rolling, ${o.maxUnavailable} at once)`);
    const startEpoch = performance.timeOrigin + now();
    const r = await runToEnd(
      process.execPath,
      [
        '-r',
        preload,
        o.cli,
        'rollout',
        '--env',
        'bench',
        '--topology',
        topology,
        '--state',
        join(o.dir, 'state.db'),
        '--yes',
        '--json',
      ],
      { cwd: o.dir },
    );
    const endEpoch = performance.timeOrigin + now();
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = events.at(-1);
    if (r.code !== 0 || result?.outcome !== 'passed')
      throw new Error(
        `uplift rollout exited ${r.code}: ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`,
      );
    const wrong = cluster.nodes.filter((n) => nodeVersion(n) !== to);
    if (wrong.length > 0)
      throw new Error(`${wrong.length} nodes are not at ${to} after the rollout`);

    const done = events.filter((e) => e.type === 'node' && e.state === 'ok');
    const order = new Map(cluster.nodes.map((n, i) => [n.name, i]));
    const batches = Math.ceil(o.nodes / o.maxUnavailable);
    const slowest = (step: string, b: number) =>
      Math.max(
        0,
        ...done
          .filter(
            (e) =>
              e.step === step &&
              Math.floor((order.get(e.node as string) ?? 0) / o.maxUnavailable) === b,
          )
          .map((e) => Number(e.seconds ?? 0)),
      );
    let criticalPath = 0;
    for (let b = 0; b < batches; b++) criticalPath += slowest('upgrade', b) + slowest('gate', b);
    const secondsOf = (step: string) =>
      done.filter((e) => e.step === step).map((e) => Number(e.seconds ?? 0));
    const upgrades = secondsOf('upgrade');
    if (upgrades.length !== o.nodes)
      throw new Error(`${upgrades.length} upgrade events for ${o.nodes} nodes`);

    const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    const intervals: [number, number][] = [];
    const byVerb: Record<string, number> = {};
    for (const line of lines) {
      const [s, e, , verb] = line.split(' ');
      intervals.push([Number(s) / 1e6, Number(e) / 1e6]);
      const v = verb ?? '?';
      byVerb[v] = (byVerb[v] ?? 0) + 1;
    }
    const wall = (endEpoch - startEpoch) / 1000;
    const busy = busySeconds(intervals, startEpoch, endEpoch);
    const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as NodeJS.ResourceUsage;
    // When the first batch began: the earliest `apply` (what an upgrade step runs on its node).
    const applies = lines
      .filter((l) => l.split(' ')[3] === 'apply')
      .map((l) => Number(l.split(' ')[0]) / 1e6);
    const firstStep = applies.length === 0 ? endEpoch : Math.min(...applies);
    return {
      nodes: o.nodes,
      maxUnavailable: o.maxUnavailable,
      batches,
      from,
      to,
      outcome: String(result?.outcome),
      wallSeconds: round(wall),
      cpuUserSeconds: round(usage.userCPUTime / 1e6),
      cpuSystemSeconds: round(usage.systemCPUTime / 1e6),
      peakRssMB: round(usage.maxRSS / 1024),
      eventsCriticalPathSeconds: round(criticalPath),
      eventsOverheadPerNodeSeconds: round((wall - criticalPath) / o.nodes),
      upgradeMedianSeconds: round(median(upgrades)),
      gateMedianSeconds: round(median(secondsOf('gate'))),
      nodeCommands: lines.length,
      nodeCommandsByVerb: byVerb,
      nodeCommandsBusySeconds: round(busy),
      overheadPerNodeSeconds: round((wall - busy) / o.nodes),
      beforeFirstStepSeconds: round((firstStep - startEpoch) / 1000),
    };
  } finally {
    await cluster?.dispose();
  }
}

export async function benchFleet(opts: FleetBenchOptions): Promise<FleetFigures> {
  const log = opts.log ?? (() => {});
  const out: FleetFigures = {
    cores: cpus().length,
    loadAverageAtStart: loadavg().map(round),
    ssh: null,
    sshError: null,
    rollout: null,
    rolloutError: null,
  };
  const dir = await mkdtemp(join(tmpdir(), 'uplift-bench-fleet-'));
  try {
    // A private copy of the build: a rebuild of dist/ meanwhile cannot change what is measured.
    const cli = snapshotDist(opts.root, dir);
    const bundle = join(dir, 'uplift/dist/bundle/cli.cjs');
    try {
      out.ssh = await benchSsh({
        root: opts.root,
        bundle,
        sshNodes: opts.sshNodes ?? 50,
        sshd: opts.sshd ?? 5,
        concurrency: opts.concurrency ?? 10,
        log,
      });
    } catch (e) {
      out.sshError = (e as Error).message;
      log(`  fleet over SSH FAILED: ${out.sshError}`);
    }
    try {
      out.rollout = await benchRollout({
        root: opts.root,
        cli,
        dir,
        nodes: opts.rolloutNodes ?? 50,
        maxUnavailable: opts.maxUnavailable ?? 10,
        log,
      });
    } catch (e) {
      out.rolloutError = (e as Error).message;
      log(`  fleet rollout FAILED: ${out.rolloutError}`);
    }
    if (out.sshError && out.rolloutError)
      throw new Error(`over SSH: ${out.sshError}; rollout: ${out.rolloutError}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** The section's printed table. */
export function formatFleet(f: FleetFigures): string {
  const widths = [56, 8, 9, 9, 15, 9];
  const row = (cells: (string | number)[]) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i] ?? 0))
      .join(' ')
      .trimEnd();
  const lines: string[] = [];
  const cores = `${f.cores} cores, load average ${f.loadAverageAtStart.join(' ')} at the start`;
  if (f.ssh) {
    const s = f.ssh;
    lines.push(
      `\nFleet over SSH — ${s.nodes} nodes on ${s.sshd} sshd on loopback (${s.nodesPerSshd} each), ${s.concurrency} at once against one at a time; ${cores}: parallel node commands share the cores`,
      `  ${s.nodes} SSH connections (${s.concurrency} at once)  ${s.connectSeconds} s`,
      `  agent, first install        ${s.install.first.seconds} s: ${s.install.first.filesPerHost} files, ${(s.install.first.bytesPerHost / 1e6).toFixed(1)} MB to each of ${s.install.first.hosts} hosts at once`,
      `  agent, second install       ${s.install.second.seconds} s on ${s.install.second.nodes} nodes: ${s.install.second.files} files, ${s.install.second.bytes} bytes copied`,
      `  ${row(['command', 'at once', 'seconds', 'nodes/s', 'node med/p95 s', 'speed-up'])}`,
    );
    const add = (p: FleetPair) => {
      for (const r of [p.parallel, p.sequential])
        lines.push(
          `  ${row([
            r.command,
            r.concurrency,
            r.seconds,
            r.nodesPerSecond,
            r.perNodeMedianSeconds === undefined
              ? ''
              : `${r.perNodeMedianSeconds} / ${r.perNodeP95Seconds}`,
            r === p.parallel ? `${p.speedup}×` : '',
          ])}`,
        );
    };
    add(s.facts);
    add(s.check);
    add(s.baseline.openssh);
    add(s.baseline.openConnection);
  }
  if (f.sshError) lines.push(`\nFleet over SSH FAILED: ${f.sshError}`);
  if (f.rollout) {
    const r = f.rollout;
    lines.push(
      `\nFleet rollout — ${r.nodes} local skiff nodes, one rolling deployment (maxUnavailable ${r.maxUnavailable}, ${r.batches} batches), ${r.from} → ${r.to}, SQLite state; ${cores}`,
      `  uplift rollout wall time       ${r.wallSeconds} s (${r.outcome})`,
      `  controller CPU                 ${r.cpuUserSeconds} s user + ${r.cpuSystemSeconds} s system, peak RSS ${r.peakRssMB} MB`,
      `  upgrade / gate per node        median ${r.upgradeMedianSeconds} s / ${r.gateMedianSeconds} s`,
      `  overhead per node, events      ${r.eventsOverheadPerNodeSeconds} s  ((wall − ${r.eventsCriticalPathSeconds} s of slowest upgrade + gate per batch) / ${r.nodes}; the survey counts as overhead)`,
      `  overhead per node, all cmds    ${r.overheadPerNodeSeconds} s  ((wall − ${r.nodeCommandsBusySeconds} s while any of the ${r.nodeCommands} node commands ran) / ${r.nodes})`,
      `  node commands                  ${Object.entries(r.nodeCommandsByVerb)
        .map(([v, n]) => `${v} ${n}`)
        .join(', ')}; first apply after ${r.beforeFirstStepSeconds} s`,
    );
  }
  if (f.rolloutError) lines.push(`\nFleet rollout FAILED: ${f.rolloutError}`);
  return lines.join('\n');
}
