/**
 * A loopback port for a test to give a server it starts later (a pinned `http.port`, sshd's
 * `ListenAddress`, PostgreSQL's `-p`, a port where nothing listens).
 *
 * Not one from `listen(0)`: that comes from the kernel's ephemeral range, the same range every
 * outgoing connection takes its own end from. Between the pick and the server's listen, any
 * client on the machine (a probe, a watcher, a rollout's HTTP call) can be handed that port, and
 * the server fails with EADDRINUSE (seen in CI: a skiff node of the rollout kill loop). A port
 * below that range is taken only by a listener that asked for it.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the ports are picked from: from 10000 up to the start of the ephemeral range. */
const lowest = 10_000;

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
function ephemeralStart(): number {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (start !== undefined && Number.isInteger(start) && start > 0) return start;
  } catch {
    // Not Linux, or no /proc: the default below.
  }
  return 32_768;
}

/** Whether a server can listen on 127.0.0.1:`port` right now (it is closed again at once). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The port the kernel hands out for `listen(0)`: the fallback when the low range is full. */
function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A TCP port free on 127.0.0.1 right now, below the ephemeral range where there is room (picked at
 * random, so the test files running at once rarely try the same one).
 */
export async function freePort(): Promise<number> {
  const span = ephemeralStart() - lowest;
  if (span >= 1000)
    for (let i = 0; i < 50; i++) {
      const port = lowest + Math.floor(Math.random() * span);
      if (await canListen(port)) return port;
    }
  return anyPort();
}
