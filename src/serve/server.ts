import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { serve } from '@hono/node-server';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import type { OpenedStateStore } from '../state/index.ts';
import { createServeApp, type ServeAppOptions } from './app.ts';
import { RolloutJobs, type RolloutJobsOptions } from './jobs.ts';

export interface ServeOptions {
  store: OpenedStateStore;
  /** HOST:PORT; default 127.0.0.1:8080 (port 0: any free port). */
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  topology?: string;
  controller: string;
  /**
   * How the server runs rollouts (`cli`: this uplift's command; `state`: the SQLite file it
   * opened); without it, the operator's rollout actions answer 503.
   */
  rollouts?: Pick<RolloutJobsOptions, 'cli' | 'state' | 'env' | 'cwd'>;
  /** How long `close` waits for running rollout jobs to stop between node actions (default 60 s). */
  jobsStopMs?: number;
  /** Passed to the app (tests shorten the windows). */
  app?: Partial<
    Pick<
      ServeAppOptions,
      'loginLimit' | 'pollMs' | 'heartbeatMs' | 'sessionTtlMs' | 'log' | 'signInLinks'
    >
  >;
}

export interface RunningServer {
  /** The base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Ends the live streams, asks running rollout jobs to stop between node actions and waits for
   * them (bounded), stops accepting and waits for open requests (at most 5 s).
   */
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (`[::1]:8080` for IPv6). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (m === null || port > 65535)
    throw new UpliftError('UPLIFT_SERVE_LISTEN_INVALID', `--listen ${listen}: expected HOST:PORT`, {
      hint: 'write e.g. --listen 127.0.0.1:8080, --listen [::1]:8080 or --listen 0.0.0.0:8443 (with --tls-cert and --tls-key)',
      unchanged: true,
    });
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Whether a listen host is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Starts `uplift serve`: plain HTTP on a loopback address, HTTPS (required) on any other. Refuses
 * bad options before binding anything.
 */
export async function startServe(o: ServeOptions): Promise<RunningServer> {
  const { host, port } = parseListen(o.listen ?? '127.0.0.1:8080');
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    throw new UpliftError('UPLIFT_USAGE', '--tls-cert and --tls-key go together', {
      hint: 'give both: the certificate (PEM) and its private key (PEM)',
      unchanged: true,
    });
  const tls = o.tlsCert !== undefined && o.tlsKey !== undefined;
  if (!tls && !isLoopback(host))
    throw new UpliftError(
      'UPLIFT_SERVE_TLS_REQUIRED',
      `--listen ${o.listen}: ${host} is reachable from other machines, and tokens and sessions must not cross a network in clear`,
      {
        hint: 'add --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1 and reach it through an SSH tunnel',
        unchanged: true,
      },
    );
  const read = (file: string, option: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw unreadableFileError(err, file, `give ${option} a readable PEM file`) ?? err;
    }
  };
  const serverOptions = tls
    ? { cert: read(o.tlsCert as string, '--tls-cert'), key: read(o.tlsKey as string, '--tls-key') }
    : undefined;

  const closing = new AbortController();
  let bound = 0;
  const loopbackHosts = () => [`127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`];
  const jobs =
    o.rollouts === undefined
      ? undefined
      : new RolloutJobs({
          ...o.rollouts,
          store: o.store,
          ...(o.topology === undefined ? {} : { topology: o.topology }),
          ...(o.app?.log === undefined ? {} : { log: o.app.log }),
        });
  const app = createServeApp({
    ...o.app,
    ...(jobs === undefined ? {} : { jobs }),
    store: o.store,
    ...(o.topology === undefined ? {} : { topology: o.topology }),
    controller: o.controller,
    tls,
    closing: closing.signal,
    ...(isLoopback(host) ? { allowedHosts: loopbackHosts } : {}),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port,
        ...(serverOptions ? { createServer: createHttpsServer, serverOptions } : {}),
      },
      () => resolve(s),
    );
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UpliftError(
          'UPLIFT_SERVE_LISTEN_FAILED',
          `cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
          {
            hint:
              err.code === 'EADDRINUSE'
                ? 'choose another port with --listen (port 0 takes any free one)'
                : 'check the address with ip addr',
            unchanged: true,
            cause: err,
          },
        ),
      ),
    );
  });
  bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${tls ? 'https' : 'http'}://${shown}:${bound}`,
    close: async () => {
      closing.abort();
      await jobs?.stopAll(o.jobsStopMs ?? 60_000);
      await new Promise<void>((resolve) => {
        // Live streams end at their next poll; their connections then fall idle and are closed.
        const idle = setInterval(() => {
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        }, 50);
        const force = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, 5000);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
