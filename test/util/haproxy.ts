import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.ts';

/** Debian's haproxy (`apt-get install haproxy`; .ci/run installs it). */
export const haproxyBinary = '/usr/sbin/haproxy';

/**
 * Whether the tests that need a real HAProxy can run: true when it is installed. Missing, it
 * throws under CI=true (a CI run must not skip them) and returns false otherwise, so a
 * `describe.skipIf(!haproxyPresent())` skips with the message printed.
 */
export function haproxyPresent(): boolean {
  if (existsSync(haproxyBinary)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${haproxyBinary} is missing: .ci/run installs Debian's haproxy`);
  console.warn(`skipping the HAProxy tests: ${haproxyBinary} is missing (apt-get install haproxy)`);
  return false;
}

export interface HaproxyServerLine {
  /** The server's name in the backend. */
  name: string;
  /** Where it listens: `host:port`. */
  address: string;
  /** More words for its `server` line, e.g. `backup` or `weight 0`. */
  options?: string;
}

export interface StartHaproxyOptions {
  servers: HaproxyServerLine[];
  /** The backend's name (default `be`). */
  backend?: string;
  /** Health checks: an HTTP GET of this path every `interMs` (default none: servers are always UP). */
  check?: { path: string; interMs?: number };
  /** A stats socket on TCP loopback too (`ipv4@127.0.0.1:<free port>`), besides the unix one. */
  tcpSocket?: boolean;
  /** More lines for the backend section. */
  backendLines?: string[];
}

export interface RunningHaproxy {
  /** The frontend's port on 127.0.0.1 (`mode http`). */
  port: number;
  /** The runtime API's unix socket (`level admin`). */
  socket: string;
  /** `127.0.0.1:<port>` of the TCP runtime API when asked for. */
  tcpSocket?: string;
  backend: string;
  /** What haproxy printed so far (warnings, servers going up and down). */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
}

function configText(o: StartHaproxyOptions, dir: string, port: number, tcp?: number): string {
  const backend = o.backend ?? 'be';
  const check = o.check ? ` check inter ${o.check.interMs ?? 200} fall 2 rise 2` : '';
  return [
    'global',
    `  stats socket ${join(dir, 'admin.sock')} mode 600 level admin`,
    ...(tcp ? [`  stats socket ipv4@127.0.0.1:${tcp} level admin`] : []),
    '  maxconn 1000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 10s',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    `  default_backend ${backend}`,
    `backend ${backend}`,
    '  balance roundrobin',
    ...(o.check ? [`  option httpchk GET ${o.check.path}`, '  http-check expect status 200'] : []),
    ...(o.backendLines ?? []).map((l) => `  ${l}`),
    ...o.servers.map(
      (s) => `  server ${s.name} ${s.address}${check}${s.options ? ` ${s.options}` : ''}`,
    ),
    '',
  ].join('\n');
}

function canConnect(target: { path: string } | { port: number; host: string }): Promise<boolean> {
  return new Promise((done) => {
    const sock = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    sock.once('connect', () => {
      sock.destroy();
      done(true);
    });
    sock.once('error', () => done(false));
  });
}

async function startOnce(o: StartHaproxyOptions): Promise<RunningHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'uplift-haproxy-'));
  const port = await freePort();
  const tcp = o.tcpSocket ? await freePort() : undefined;
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, configText(o, dir, port, tcp));
  const child: ChildProcess = spawn(haproxyBinary, ['-db', '-f', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  let exited = false;
  const gone = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const socket = join(dir, 'admin.sock');
  for (let i = 0; i < 100 && !exited; i++) {
    if (
      (await canConnect({ path: socket })) &&
      (await canConnect({ port, host: '127.0.0.1' })) &&
      (tcp === undefined || (await canConnect({ port: tcp, host: '127.0.0.1' })))
    )
      return {
        port,
        socket,
        tcpSocket: tcp === undefined ? undefined : `127.0.0.1:${tcp}`,
        backend: o.backend ?? 'be',
        log: () => out,
        stop,
      };
    await sleep(50);
  }
  await stop();
  throw new Error(`haproxy did not start: ${out.trim() || 'no output'}`);
}

/**
 * A real HAProxy on 127.0.0.1 (`-db`: foreground, a child of this process) in front of `servers`:
 * one frontend on a free port, one backend, a runtime API socket with `level admin`. Stop it in
 * `afterAll`. A port taken between choosing it and binding it makes haproxy exit; it is started
 * again on other ports.
 */
export async function startHaproxy(o: StartHaproxyOptions): Promise<RunningHaproxy> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(o);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** One runtime API command and its answer, as `socat` would give it. */
export function haproxyCommand(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let answer = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.end(`${line}\n`));
    sock.on('data', (s: string) => {
      answer += s;
    });
    sock.on('end', () => resolve(answer));
    sock.on('error', reject);
  });
}
