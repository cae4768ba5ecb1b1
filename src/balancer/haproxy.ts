import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpliftError } from '../errors/index.ts';
import type { BalancerSettings } from '../topology/types.ts';
import type { Balancer, ServerState } from './types.ts';

type HaproxySettings = Extract<BalancerSettings, { kind: 'haproxy' }>;

export interface HaproxyOptions {
  /** How often sessions and states are read while waiting (default 250 ms). */
  pollMs?: number;
  /** How long `enable` waits for the server's health checks to pass (default 60 s). */
  upTimeoutMs?: number;
  /** How long one runtime API command may take (default 10 s). */
  commandTimeoutMs?: number;
}

/** Where the runtime API listens: a unix socket path, or `host:port` (HAProxy's `ipv4@`/`unix@` prefixes allowed). */
type Endpoint = { path: string } | { host: string; port: number };

function parseEndpoint(socket: string): Endpoint {
  const bare = socket.replace(/^(?:ipv4|ipv6|unix)@/, '');
  const tcp = /^\[?([^\]/]*?)\]?:(\d{1,5})$/.exec(bare);
  if (tcp && !socket.startsWith('unix@'))
    return { host: tcp[1] || '127.0.0.1', port: Number(tcp[2]) };
  return { path: bare };
}

/** srv_admin_state bits (HAProxy management.txt, "show servers state"). */
const maintBits = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const drainBits = 0x08 | 0x10;
/** srv_op_state: 1 = starting (up, warming), 2 = running. */
const upStates = new Set([1, 2]);

interface ServerRow {
  opState: number;
  adminState: number;
  /** srv_uweight: the weight set in the configuration or by `set weight`. */
  weight: number;
  checkStatus: string;
}

/**
 * HAProxy through its runtime API (the `stats socket` of the global section, `level admin`):
 * one short connection per command, as `socat` does.
 *
 * Why drain, then maint (HAProxy 2.6 management.txt, "set server … state"): `drain` takes the
 * server out of load balancing while its open transfers run to their end and its health checks
 * go on; it still accepts *persistent* connections (a `cookie` or `stick` table pointing at it), so
 * a drained server can keep receiving new requests and must not be stopped yet. `maint` stops all
 * traffic, persistent included (a persistent client is balanced to another server), but it is a
 * DOWN state: with `on-marked-down shutdown-sessions` entering it kills the transfers in flight,
 * and it stops the health checks. So `drain` is what `drain()` sets (no request refused, none
 * cut), and `waitDrained()` moves the server to `maint` only once its sessions reached 0, then
 * waits for 0 again (a persistent request that slipped in between ends first): when it resolves,
 * HAProxy sends the server nothing at all, and stopping it loses nothing. In `mode http` a
 * keep-alive client is balanced per request, so its next request goes to a server that is not
 * drained; an idle connection HAProxy keeps to the drained server is no session and carries no
 * request. `enable()` sets `ready` (clearing drain and maint) and then waits until the server is
 * UP again (its health checks passed): draining the other side before that would leave the
 * backend with no server and its clients with 503s.
 */
export function openHaproxyBalancer(settings: HaproxySettings, o: HaproxyOptions = {}): Balancer {
  const endpoint = parseEndpoint(settings.socket);
  const { backend } = settings;
  const pollMs = o.pollMs ?? 250;
  const upTimeoutMs = o.upTimeoutMs ?? 60_000;
  const commandTimeoutMs = o.commandTimeoutMs ?? 10_000;
  const where = `HAProxy runtime API at ${settings.socket}`;

  const command = (line: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const sock: Socket =
        'path' in endpoint ? connect(endpoint.path) : connect(endpoint.port, endpoint.host);
      let answer = '';
      sock.setEncoding('utf8');
      sock.setTimeout(commandTimeoutMs, () =>
        sock.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      );
      sock.on('connect', () => sock.end(`${line}\n`));
      sock.on('data', (s: string) => {
        answer += s;
      });
      sock.on('end', () => resolve(answer));
      sock.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          new UpliftError(
            'UPLIFT_BALANCER_UNREACHABLE',
            `cannot reach the ${where} (${err.code ?? err.message}) for "${line}"`,
            {
              hint: `start HAProxy, or fix balancer.socket: its global section needs "stats socket ${'path' in endpoint ? endpoint.path : `ipv4@${endpoint.host}:${endpoint.port}`} level admin", readable by this user`,
              cause: err,
              unchanged: true,
            },
          ),
        ),
      );
    });

  /** An answer that is not the success of a `set` (an empty line) or a dump: a coded error. */
  const refuse = (server: string, line: string, answer: string): never => {
    const text = answer.trim();
    if (/^No such (server|backend)\./.test(text) || /^Can't find backend\./.test(text)) {
      throw new UpliftError(
        'UPLIFT_BALANCER_UNKNOWN_SERVER',
        `${where}: ${text} (${backend}/${server})`,
        {
          hint: `name the backend (balancer.backend) and its server (the node's balancerServer, default the node's name) as the HAProxy configuration names them; "show servers state ${backend}" lists them`,
        },
      );
    }
    throw new UpliftError(
      'UPLIFT_BALANCER_REFUSED',
      `${where} refused "${line}": ${text || 'no answer'}`,
      {
        hint: /permission denied/i.test(text)
          ? 'give the stats socket "level admin" in the HAProxy configuration'
          : 'run the same command with socat against the socket and fix what HAProxy answers',
        unchanged: true,
      },
    );
  };

  const setState = async (server: string, state: 'ready' | 'drain' | 'maint') => {
    const line = `set server ${backend}/${server} state ${state}`;
    const answer = await command(line);
    if (answer.trim() !== '') refuse(server, line, answer);
  };

  const row = async (server: string): Promise<ServerRow> => {
    const line = `show servers state ${backend}`;
    const answer = await command(line);
    const lines = answer.split('\n');
    if (lines[0]?.trim() !== '1') refuse(server, line, answer);
    const header = (lines[1] ?? '').replace(/^#\s*/, '').split(' ');
    const col = (name: string) => header.indexOf(name);
    for (const l of lines.slice(2)) {
      const f = l.trim().split(' ');
      if (f[col('srv_name')] !== server) continue;
      return {
        opState: Number(f[col('srv_op_state')]),
        adminState: Number(f[col('srv_admin_state')]),
        weight: Number(f[col('srv_uweight')]),
        checkStatus: f[col('srv_check_status')] ?? '',
      };
    }
    return refuse(server, line, 'No such server.');
  };

  /**
   * The server's line of `show stat` (servers only): `scur`, the streams it serves right now, and
   * `bck`, 1 for a backup server.
   */
  const stat = async (server: string): Promise<{ sessions: number; backup: boolean }> => {
    const line = 'show stat -1 4 -1';
    const answer = await command(line);
    const lines = answer.split('\n');
    const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
    const [px, sv, scur, bck] = ['pxname', 'svname', 'scur', 'bck'].map((n) =>
      header.indexOf(n),
    ) as [number, number, number, number];
    if (Math.min(px, sv, scur, bck) < 0) refuse(server, line, answer);
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      if (f[px] === backend && f[sv] === server)
        return { sessions: Number(f[scur]), backup: f[bck] === '1' };
    }
    return refuse(server, line, 'No such server.');
  };
  const sessions = async (server: string) => (await stat(server)).sessions;

  const state = async (server: string): Promise<ServerState> => {
    const r = await row(server);
    const admin = r.adminState & maintBits ? 'maint' : r.adminState & drainBits ? 'drain' : 'ready';
    const { sessions, backup } = await stat(server);
    return { server, admin, sessions, weight: r.weight, backup };
  };

  const waitForNoSessions = async (server: string, deadline: number, timeoutMs: number) => {
    for (;;) {
      const open = await sessions(server);
      if (open === 0) return;
      if (Date.now() >= deadline)
        throw new UpliftError(
          'UPLIFT_BALANCER_DRAIN_TIMEOUT',
          `${backend}/${server} still serves ${open} session(s) after ${Math.round(timeoutMs / 1000)} s of draining`,
          {
            hint: `raise balancer.drainTimeoutSeconds, or end the long transfers; the server stays drained ("set server ${backend}/${server} state ready" takes it back)`,
          },
        );
      await sleep(pollMs);
    }
  };

  return {
    label: `haproxy ${backend} at ${settings.socket}`,
    drain: (server) => setState(server, 'drain'),
    async enable(server) {
      await setState(server, 'ready');
      const deadline = Date.now() + upTimeoutMs;
      for (;;) {
        const r = await row(server);
        if (upStates.has(r.opState)) return;
        if (Date.now() >= deadline)
          throw new UpliftError(
            'UPLIFT_BALANCER_NOT_UP',
            `${backend}/${server} is enabled but HAProxy does not send it traffic: its health checks have not passed after ${Math.round(upTimeoutMs / 1000)} s (last check: ${r.checkStatus})`,
            {
              hint: `check that the node's service answers where the HAProxy configuration's "server ${server}" line points`,
            },
          );
        await sleep(pollMs);
      }
    },
    state,
    async waitDrained(server, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await waitForNoSessions(server, deadline, timeoutMs);
      const { adminState } = await row(server);
      if (adminState & drainBits && !(adminState & maintBits)) await setState(server, 'maint');
      await waitForNoSessions(server, deadline, timeoutMs);
    },
    close: async () => {},
  };
}
