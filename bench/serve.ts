import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { median, percentile, round } from './stats.ts';

// The tsc build, as the other benches use it: what ships.
const distState = '../dist/state/index.js';
const distServe = '../dist/serve/index.js';
const { openStateStore } = (await import(distState)) as typeof import('../src/state/index.ts');
const { createServeToken } = (await import(distServe)) as typeof import('../src/serve/index.ts');

/** Latencies of one kind of request, milliseconds. */
export interface Latency {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** A fixed time of GETs on /api/fleet, /api/runs and /api/audit, by `viewers` sessions at once. */
export interface LoadFigures {
  viewers: number;
  seconds: number;
  all: Latency;
  byPath: Record<string, Latency>;
  requestsPerSecond: number;
  /** The server's CPU time ÷ wall time (1 = one core busy), and the bench's own (the clients). */
  serverCpuCores: number;
  clientCpuCores: number;
  /** The server's CPU time per request: what a busy machine does not inflate as it does latency. */
  serverCpuMsPerRequest: number;
  serverRssMB: number;
}

export interface ServeFigures {
  generated: {
    nodes: number;
    environments: number;
    deployments: number;
    runs: number;
    auditRows: number;
    stateMB: number;
    generateMs: number;
  };
  /** From spawning `uplift serve` to its URL printed. */
  serverStartMs: number;
  /** One viewer alone, then 50 at once, each its own session. */
  alone: LoadFigures;
  concurrent: LoadFigures;
  /** The 50-viewer p95 ÷ the one-viewer p95 (all paths). */
  p95Ratio: number;
  /** The same three GETs by curl, one at a time (median of 10 each): the client's floor. */
  curlMedianMs: Record<string, number>;
  sse: {
    clients: number;
    rows: number;
    /** The server's poll interval: the floor of the mean delay is half of it. */
    pollMs: number;
    /** From the bench writing an audit row to each client parsing it (clients × rows samples). */
    delay: Latency;
    received: number;
    expected: number;
    /** The server's RSS: before the streams, with all of them open, and its peak over the run. */
    serverRssMB: { before: number; connected: number; peak: number };
    serverCpuCores: number;
  };
  loadAverage: number;
}

const paths = ['/api/fleet', '/api/runs', '/api/audit'] as const;

/**
 * The `serve` bench: a real `uplift serve` process on 127.0.0.1 over a generated SQLite state
 * (1,000 nodes in 4 environments, thousands of runs and tens of thousands of audit rows). (a) the
 * API's latency under 50 concurrent viewers against one alone; (b) the live feed: the delay from
 * an audit row's write to its arrival at each of 200 SSE clients, and the server's memory.
 */
export async function benchServe(o: {
  root: string;
  log: (s: string) => void;
  nodes?: number;
  viewers?: number;
  sseClients?: number;
  seconds?: number;
}): Promise<ServeFigures> {
  const nodes = o.nodes ?? 1000;
  const viewers = o.viewers ?? 50;
  const clients = o.sseClients ?? 200;
  const seconds = o.seconds ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bench-serve-'));
  let server: ChildProcess | undefined;
  try {
    o.log(`serve: generating a state of ${nodes} nodes…`);
    const t0 = performance.now();
    const gen = await generateState(dir, nodes);
    const generateMs = round(performance.now() - t0);
    const check = spawnSync(
      process.execPath,
      [join(o.root, 'dist/cli/main.js'), 'topology', 'check', '--topology', gen.topology],
      { encoding: 'utf8' },
    );
    if (check.status !== 0)
      throw new Error(`the generated topology is invalid: ${check.stdout}${check.stderr}`);

    const started = performance.now();
    server = spawn(
      process.execPath,
      [
        join(o.root, 'dist/cli/main.js'),
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--state',
        gen.state,
        '--topology',
        gen.topology,
        '--json',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const { url, pid } = await firstLine(server);
    const serverStartMs = round(performance.now() - started);
    o.log(`serve: listening at ${url} (pid ${pid})`);

    const sessions = await Promise.all(
      Array.from({ length: Math.max(viewers, clients) }, () => login(url, gen.token)),
    );

    o.log(`serve: one viewer for ${seconds} s…`);
    const alone = await load(url, sessions.slice(0, 1), seconds, pid);
    o.log(`serve: ${viewers} viewers for ${seconds} s…`);
    const concurrent = await load(url, sessions.slice(0, viewers), seconds, pid);
    const curlMedianMs: Record<string, number> = {};
    for (const p of paths) curlMedianMs[p] = curlMedian(`${url}${p}`, sessions[0] as string);

    o.log(`serve: ${clients} live streams…`);
    const sse = await fanOut(url, gen.state, sessions.slice(0, clients), pid);
    return {
      generated: { ...gen.counts, stateMB: round(statSync(gen.state).size / 1e6), generateMs },
      serverStartMs,
      alone,
      concurrent,
      p95Ratio: round(concurrent.all.p95Ms / alone.all.p95Ms),
      curlMedianMs,
      sse,
      loadAverage: round(loadavg()[0] ?? 0),
    };
  } finally {
    if (server?.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server?.once('close', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A topology of `nodes` nodes (4 environments × 5 deployments) and a state store with every
 * node's facts and last check, 3 runs per node of 15 audit rows each, and a viewer token.
 */
async function generateState(dir: string, nodes: number) {
  const envs = ['test', 'preprod', 'prod-eu', 'prod-us'];
  const perDeployment = Math.max(1, Math.round(nodes / (envs.length * 5)));
  const topology = join(dir, 'uplift.yaml');
  const state = join(dir, 'state.db');
  const all: { env: string; deployment: string; node: string }[] = [];
  // SSH nodes need a host key policy; no node is contacted (the fleet view reads the store).
  writeFileSync(join(dir, 'known_hosts'), '');
  const lines = ['topology: 1', 'defaults:', '  knownHosts: ./known_hosts', 'environments:'];
  envs.forEach((env, e) => {
    lines.push(`  - name: ${env}`, '    deployments:');
    for (let d = 0; d < 5; d++) {
      const deployment = `cluster-${d}`;
      lines.push(
        `      - name: ${deployment}`,
        '        type: standard-cluster',
        '        profile: skiff',
        '        nodes:',
      );
      for (let n = 0; n < perDeployment; n++) {
        const node = `${env}-${d}-${String(n).padStart(3, '0')}`;
        lines.push(
          `          - { name: ${node}, at: "ssh://uplift@10.${e}.${d}.${n + 1}/opt/skiff" }`,
        );
        all.push({ env, deployment, node });
      }
    }
  });
  writeFileSync(topology, `${lines.join('\n')}\n`);

  const store = await openStateStore({ file: state, env: {} });
  let token: string;
  try {
    token = (await createServeToken(store, 'bench-viewer', 'viewer')).token;
    for (const [i, n] of all.entries()) {
      await store.recordFacts({
        deployment: n.deployment,
        node: n.node,
        facts: { product: { version: i % 7 === 0 ? '5.4 GA' : '5.5 GA' }, os: { family: 'linux' } },
      });
      await store.recordCheck?.({
        env: n.env,
        deployment: n.deployment,
        node: n.node,
        status: i % 11 === 0 ? 'warn' : 'pass',
        pass: 9,
        warn: i % 11 === 0 ? 1 : 0,
        fail: 0,
        failed: [],
      });
    }
  } finally {
    await store.close();
  }

  // Runs and their audit rows in one transaction, straight into the tables the store reads.
  const db = new Database(state);
  const runs = all.length * 3;
  let auditRows = 0;
  const start = Date.parse('2026-06-01T00:00:00Z');
  db.transaction(() => {
    const run = db.prepare(
      'INSERT INTO runs (id, env, deployments, topology_digest, controller, started_at, finished_at, outcome, dry_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const audit = db.prepare(
      'INSERT INTO audit (at, actor, controller, run_id, env, deployment, node, action, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (let r = 0; r < runs; r++) {
      const env = envs[r % envs.length] as string;
      const deployment = `cluster-${r % 5}`;
      const id = `run-${String(r).padStart(5, '0')}`;
      const at = (s: number) => new Date(start + r * 600_000 + s * 1000).toISOString();
      const outcome = r % 13 === 0 ? 'rolled-back' : 'passed';
      run.run(
        id,
        env,
        JSON.stringify([deployment]),
        'sha256:bench',
        'bench',
        at(0),
        at(900),
        outcome,
        0,
      );
      const actor = `op${r % 9}@ops-host`;
      const row = (s: number, node: string | null, action: string, detail: unknown) => {
        audit.run(
          at(s),
          actor,
          'bench',
          id,
          env,
          deployment,
          node,
          action,
          'ok',
          JSON.stringify(detail),
        );
        auditRows++;
      };
      row(0, null, 'rollout.start', { deployments: [deployment] });
      row(1, null, 'gate.pass', {});
      for (let n = 0; n < 4; n++) {
        const node = `${env}-${r % 5}-${String((r + n) % perDeployment).padStart(3, '0')}`;
        for (const [k, action] of ['node.stop', 'node.upgrade', 'node.start'].entries())
          row(10 + n * 100 + k * 30, node, action, { step: action, seconds: 12 + k });
      }
      row(900, null, 'rollout.finish', { outcome });
    }
  })();
  db.close();
  return {
    topology,
    state,
    token,
    counts: {
      nodes: all.length,
      environments: envs.length,
      deployments: envs.length * 5,
      runs,
      auditRows,
    },
  };
}

function firstLine(child: ChildProcess): Promise<{ url: string; pid: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { url: string; pid: number });
    });
    child.once('close', (code) => reject(new Error(`uplift serve ended (${code}): ${err}`)));
  });
}

async function login(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

/** utime + stime of a process, seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return round(Number(m?.[1] ?? 0) / 1024);
}

function latency(ms: number[]): Latency {
  return {
    requests: ms.length,
    p50Ms: round(median(ms)),
    p95Ms: round(percentile(ms, 95)),
    maxMs: round(Math.max(...ms)),
  };
}

/** Each session in a loop over the three paths until the time is up; every answer must be 200. */
async function load(
  url: string,
  cookies: string[],
  seconds: number,
  pid: number,
): Promise<LoadFigures> {
  const byPath: Record<string, number[]> = Object.fromEntries(paths.map((p) => [p, []]));
  const end = performance.now() + seconds * 1000;
  const cpu0 = cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const wall0 = performance.now();
  await Promise.all(
    cookies.map(async (cookie, v) => {
      for (let i = v; performance.now() < end; i++) {
        const path = paths[i % paths.length] as string;
        const t = performance.now();
        const res = await fetch(`${url}${path}`, { headers: { cookie } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
        byPath[path]?.push(performance.now() - t);
      }
    }),
  );
  const wall = (performance.now() - wall0) / 1000;
  const own = process.cpuUsage(own0);
  const all = Object.values(byPath).flat();
  const serverCpu = cpuSeconds(pid) - cpu0;
  return {
    viewers: cookies.length,
    seconds,
    all: latency(all),
    byPath: Object.fromEntries(Object.entries(byPath).map(([p, ms]) => [p, latency(ms)])),
    requestsPerSecond: round(all.length / wall),
    serverCpuCores: round(serverCpu / wall),
    clientCpuCores: round((own.user + own.system) / 1e6 / wall),
    serverCpuMsPerRequest: round((serverCpu * 1000) / all.length),
    serverRssMB: rssMB(pid),
  };
}

function curlMedian(url: string, cookie: string): number {
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = spawnSync(
      'curl',
      ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '-H', `cookie: ${cookie}`, url],
      { encoding: 'utf8' },
    );
    const [code, total] = r.stdout.split(' ');
    if (code !== '200') throw new Error(`curl ${url}: ${r.stdout} ${r.stderr}`);
    times.push(Number(total) * 1000);
  }
  return round(median(times));
}

/**
 * `clients` SSE streams of one run (each its own session), then `rows` audit rows written by this
 * process into the same SQLite file, 300 ms apart; each client notes when it parsed each row.
 */
async function fanOut(
  url: string,
  state: string,
  cookies: string[],
  pid: number,
): Promise<ServeFigures['sse']> {
  const rows = 20;
  const store = await openStateStore({ file: state, env: {} });
  const abort = new AbortController();
  try {
    const runId = 'bench-live';
    await store.startRun({
      id: runId,
      env: 'test',
      deployments: ['cluster-0'],
      topologyDigest: 'sha256:bench',
      controller: 'bench',
      dryRun: false,
    });
    const before = rssMB(pid);
    const seen = cookies.map(() => new Map<number, number>());
    let connected = 0;
    const streams = cookies.map(async (cookie, c) => {
      const res = await fetch(`${url}/api/runs/${runId}/events`, {
        headers: { cookie },
        signal: abort.signal,
      });
      if (res.status !== 200) throw new Error(`events: ${res.status}`);
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          const now = performance.now();
          buf += decoder.decode(chunk, { stream: true });
          for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (block.startsWith('retry:')) connected++;
            const id = /^id: (\d+)$/m.exec(block)?.[1];
            if (id !== undefined) seen[c]?.set(Number(id), now);
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    });
    const failed = Promise.all(streams).then(
      () => undefined,
      (err: unknown) => err,
    );
    await until(() => connected === cookies.length, 20_000);
    const connectedRss = rssMB(pid);

    const written = new Map<number, number>();
    const cpu0 = cpuSeconds(pid);
    const wall0 = performance.now();
    for (let i = 0; i < rows; i++) {
      const e = await store.audit({
        actor: 'bench',
        controller: 'bench',
        runId,
        env: 'test',
        deployment: 'cluster-0',
        node: `test-0-${String(i).padStart(3, '0')}`,
        action: 'node.upgrade',
        outcome: 'started',
        detail: { step: i },
      });
      written.set(e.id as number, performance.now());
      await new Promise((r) => setTimeout(r, 300));
    }
    await until(() => seen.every((s) => s.size >= rows), 10_000).catch(() => undefined);
    const wall = (performance.now() - wall0) / 1000;
    const serverCpuCores = round((cpuSeconds(pid) - cpu0) / wall);
    const peak = rssMB(pid, 'VmHWM');
    abort.abort();
    const err = await failed;
    if (err) throw err;

    const delays: number[] = [];
    for (const s of seen)
      for (const [id, at] of written) {
        const got = s.get(id);
        if (got !== undefined) delays.push(got - at);
      }
    return {
      clients: cookies.length,
      rows,
      pollMs: 250,
      delay: latency(delays),
      received: delays.length,
      expected: cookies.length * rows,
      serverRssMB: { before, connected: connectedRss, peak },
      serverCpuCores,
    };
  } finally {
    abort.abort();
    await store.close();
  }
}

async function until(what: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!what()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function formatServe(f: ServeFigures): string {
  const g = f.generated;
  const row = (name: string, l: Latency) =>
    `  ${name.padEnd(12)} ${String(l.requests).padStart(6)}  p50 ${l.p50Ms} ms  p95 ${l.p95Ms} ms  max ${l.maxMs} ms`;
  const loadLines = (l: LoadFigures) => [
    `${l.viewers} viewer${l.viewers === 1 ? '' : 's'}, ${l.seconds} s: ${l.requestsPerSecond} requests/s; server CPU ${l.serverCpuCores} cores (${l.serverCpuMsPerRequest} ms a request), clients ${l.clientCpuCores}; server RSS ${l.serverRssMB} MB`,
    row('all', l.all),
    ...Object.entries(l.byPath).map(([p, x]) => row(p, x)),
  ];
  return [
    `\nServe — a real uplift serve over ${g.nodes} nodes (${g.environments} environments, ${g.deployments} deployments), ${g.runs} runs, ${g.auditRows} audit rows (${g.stateMB} MB SQLite; generated in ${g.generateMs} ms); started in ${f.serverStartMs} ms`,
    ...loadLines(f.alone),
    ...loadLines(f.concurrent),
    `  p95 with ${f.concurrent.viewers} viewers ÷ p95 alone: ${f.p95Ratio}×`,
    `  curl, one at a time (median of 10): ${Object.entries(f.curlMedianMs)
      .map(([p, ms]) => `${p} ${ms} ms`)
      .join(', ')}`,
    `SSE fan-out: ${f.sse.clients} streams, ${f.sse.rows} rows (poll every ${f.sse.pollMs} ms): ${f.sse.received}/${f.sse.expected} received; delay p50 ${f.sse.delay.p50Ms} ms, p95 ${f.sse.delay.p95Ms} ms, max ${f.sse.delay.maxMs} ms`,
    `  server RSS ${f.sse.serverRssMB.before} MB before, ${f.sse.serverRssMB.connected} MB with ${f.sse.clients} streams, peak ${f.sse.serverRssMB.peak} MB; server CPU ${f.sse.serverCpuCores} cores while streaming`,
    `  load average ${f.loadAverage}`,
  ].join('\n');
}
