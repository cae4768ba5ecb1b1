import { connect, type Socket } from 'node:net';
import type { OutboundSettings } from './settings.ts';

/** An outbound connection that could not be made; `code` says why. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  readonly code: 'SKIFF_PROXY_DOWN' | 'SKIFF_PROXY_REFUSED' | 'SKIFF_CONNECT_FAILED';
  constructor(code: OutboundError['code'], message: string, cause?: unknown) {
    super(message, { cause });
    this.code = code;
  }
}

/** Errors that mean "nothing answers at the proxy's address", as opposed to a proxy that says no. */
const proxyDownCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'ETIMEDOUT' }),
      ),
    );
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Asks an HTTP proxy for a tunnel (CONNECT) and resolves once it answers 2xx. */
function tunnel(socket: Socket, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    // Paused-mode reads, so no byte after the proxy's answer is lost before the caller listens.
    const onReadable = () => {
      for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
        head = Buffer.concat([head, chunk as Buffer]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) continue;
        socket.off('readable', onReadable);
        socket.off('error', reject);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
        if (!status?.startsWith('2')) {
          socket.destroy();
          reject(
            new OutboundError(
              'SKIFF_PROXY_REFUSED',
              `the proxy answered ${status ?? 'garbage'} to CONNECT ${host}:${port}`,
            ),
          );
          return;
        }
        if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
        resolve(socket);
        return;
      }
    };
    socket.on('readable', onReadable);
    socket.once('error', reject);
    socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  });
}

/**
 * Opens a TCP connection to a partner for an outbound transfer: through the configured proxy, or
 * directly when none is configured. When the proxy is down the connection goes directly only if
 * `directWhenProxyDown` allows it (always before 5.5 GA; from 5.5 GA only with
 * Direct.Connection.When.Proxy.Down=true); otherwise the transfer fails.
 */
export async function connectOutbound(
  target: { host: string; port: number },
  settings: OutboundSettings,
  timeoutMs = 5000,
): Promise<{ socket: Socket; via: 'proxy' | 'direct' }> {
  const direct = async () => {
    try {
      return {
        socket: await openSocket(target.host, target.port, timeoutMs),
        via: 'direct' as const,
      };
    } catch (err) {
      throw new OutboundError(
        'SKIFF_CONNECT_FAILED',
        `cannot connect to ${target.host}:${target.port}: ${(err as Error).message}`,
        err,
      );
    }
  };
  const { proxy } = settings;
  if (!proxy) return direct();
  let socket: Socket;
  try {
    socket = await openSocket(proxy.host, proxy.port, timeoutMs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!proxyDownCodes.has(code)) throw err;
    if (settings.directWhenProxyDown) return direct();
    throw new OutboundError(
      'SKIFF_PROXY_DOWN',
      `the proxy ${proxy.host}:${proxy.port} is down (${code}) and Direct.Connection.When.Proxy.Down is not true`,
      err,
    );
  }
  return { socket: await tunnel(socket, target.host, target.port), via: 'proxy' };
}
