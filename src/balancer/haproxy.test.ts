import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/util/free-port.ts';
import {
  haproxyCommand,
  haproxyPresent,
  type RunningHaproxy,
  startHaproxy,
} from '../../test/util/haproxy.ts';
import { openBalancer } from './index.ts';

/** A backend server that answers with its name; `/slow?ms=N` answers after N ms. */
async function nameServer(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end(name), ms);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function namesSeen(port: number, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await get(port)).body);
  return seen;
}

const settings = (socket: string, backend = 'be') =>
  ({ kind: 'haproxy', socket, backend, drainTimeoutSeconds: 5 }) as const;

describe.skipIf(!haproxyPresent())('haproxy balancer against a real HAProxy', () => {
  const backends: Server[] = [];
  let hp: RunningHaproxy;

  beforeAll(async () => {
    const a = await nameServer('a');
    const b = await nameServer('b');
    backends.push(a.server, b.server);
    hp = await startHaproxy({
      servers: [
        { name: 'a', address: a.address },
        { name: 'b', address: b.address },
      ],
      check: { path: '/', interMs: 100 },
      tcpSocket: true,
    });
  });

  afterAll(async () => {
    await hp?.stop();
    for (const s of backends) s.close();
  });

  it('drains a server: new requests go to the other one, and enable brings it back', async () => {
    const lb = openBalancer(settings(hp.socket), { pollMs: 50 });

    await lb.drain('b');
    const drained = await lb.state('b');
    const whileDrained = await namesSeen(hp.port, 6);
    await lb.enable('b');
    const enabled = await lb.state('b');
    const afterEnable = await namesSeen(hp.port, 6);

    expect(drained).toEqual({ server: 'b', admin: 'drain', sessions: 0, weight: 1, backup: false });
    expect([...whileDrained]).toEqual(['a']);
    expect(enabled.admin).toBe('ready');
    expect([...afterEnable].sort()).toEqual(['a', 'b']);
  });

  it('counts the sessions of a request in flight', async () => {
    const lb = openBalancer(settings(hp.socket), { pollMs: 50 });
    await lb.drain('a');

    const slow = get(hp.port, '/slow?ms=800');
    await new Promise((r) => setTimeout(r, 300));
    const during = await lb.state('b');
    await slow;
    const after = await lb.state('b');
    await lb.enable('a');

    expect(during.sessions).toBe(1);
    expect(after.sessions).toBe(0);
  });

  it('waitDrained waits for an open slow request to end, lets it finish, then holds all traffic off', async () => {
    const lb = openBalancer(settings(hp.socket), { pollMs: 50 });
    await lb.drain('a');
    const slow = get(hp.port, '/slow?ms=1200');
    await new Promise((r) => setTimeout(r, 300));
    await lb.enable('a');

    await lb.drain('b');
    const started = Date.now();
    await lb.waitDrained('b', 10_000);
    const waited = Date.now() - started;
    const answer = await slow;
    const state = await lb.state('b');
    const seen = await namesSeen(hp.port, 4);
    await lb.enable('b');
    const back = await lb.state('b');

    expect(waited).toBeGreaterThan(500);
    expect(answer).toEqual({ status: 200, body: 'b' });
    expect(state).toEqual({ server: 'b', admin: 'maint', sessions: 0, weight: 1, backup: false });
    expect([...seen]).toEqual(['a']);
    expect(back.admin).toBe('ready');
  });

  it('gives up waiting after the timeout with UPLIFT_BALANCER_DRAIN_TIMEOUT, the server left drained', async () => {
    const lb = openBalancer(settings(hp.socket), { pollMs: 50 });
    await lb.drain('a');
    const slow = get(hp.port, '/slow?ms=1500');
    await new Promise((r) => setTimeout(r, 300));
    await lb.enable('a');
    await lb.drain('b');

    const waiting = lb.waitDrained('b', 300);

    await expect(waiting).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_DRAIN_TIMEOUT' });
    expect((await lb.state('b')).admin).toBe('drain');
    expect(await slow).toEqual({ status: 200, body: 'b' });
    await lb.enable('b');
  });

  it('enable waits until the health checks pass, and says so when they do not', async () => {
    const dead = await freePort();
    const down = await startHaproxy({
      servers: [{ name: 'gone', address: `127.0.0.1:${dead}` }],
      check: { path: '/', interMs: 100 },
    });
    try {
      const lb = openBalancer(settings(down.socket), { pollMs: 50, upTimeoutMs: 600 });

      const enabling = lb.enable('gone');

      await expect(enabling).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_NOT_UP' });
    } finally {
      await down.stop();
    }
  });

  it("reads a server's weight and whether it is a backup server", async () => {
    const spare = await nameServer('spare');
    const other = await startHaproxy({
      servers: [
        { name: 'main', address: spare.address, options: 'weight 20' },
        { name: 'spare', address: spare.address, options: 'backup' },
      ],
    });
    try {
      const lb = openBalancer(settings(other.socket), { pollMs: 50 });
      const main = await lb.state('main');
      await haproxyCommand(other.socket, 'set server be/main weight 0');
      const zero = await lb.state('main');

      expect(main).toMatchObject({ weight: 20, backup: false });
      expect(zero).toMatchObject({ weight: 0, backup: false, admin: 'ready' });
      expect(await lb.state('spare')).toMatchObject({ weight: 1, backup: true });
    } finally {
      await other.stop();
      spare.server.close();
    }
  });

  it('works over the TCP runtime API too', async () => {
    const lb = openBalancer(settings(hp.tcpSocket as string), { pollMs: 50 });

    await lb.drain('a');
    const drained = await haproxyCommand(hp.socket, 'show servers state be');
    await lb.enable('a');

    expect(drained).toMatch(/ a 127\.0\.0\.1 2 8 /);
    expect((await lb.state('a')).admin).toBe('ready');
  });

  describe('should error and not change the balancer if', () => {
    it('the server is not in the backend (HAProxy: "No such server.")', async () => {
      const lb = openBalancer(settings(hp.socket));
      const before = await haproxyCommand(hp.socket, 'show servers state be');

      await expect(lb.drain('zz')).rejects.toMatchObject({
        code: 'UPLIFT_BALANCER_UNKNOWN_SERVER',
        message: expect.stringContaining('be/zz'),
      });
      await expect(lb.state('zz')).rejects.toMatchObject({
        code: 'UPLIFT_BALANCER_UNKNOWN_SERVER',
      });
      expect(await haproxyCommand(hp.socket, 'show servers state be')).toBe(before);
    });

    it('the backend does not exist', async () => {
      const lb = openBalancer(settings(hp.socket, 'nope'));

      await expect(lb.drain('a')).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_UNKNOWN_SERVER' });
      await expect(lb.state('a')).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_UNKNOWN_SERVER' });
    });

    it('the socket is not there, or nothing listens on the TCP port', async () => {
      const missing = openBalancer(settings('/nonexistent/haproxy.sock'));
      const closed = openBalancer(settings(`127.0.0.1:${await freePort()}`));

      const err = await missing.drain('a').catch((e: unknown) => e);
      await expect(closed.state('a')).rejects.toMatchObject({
        code: 'UPLIFT_BALANCER_UNREACHABLE',
      });
      expect(err).toMatchObject({
        code: 'UPLIFT_BALANCER_UNREACHABLE',
        message: expect.stringContaining('/nonexistent/haproxy.sock'),
        hint: expect.stringContaining('level admin'),
      });
    });
  });
});
