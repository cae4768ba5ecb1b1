import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { actorName, controllerId } from '../../controller/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { createServeToken, revokeServeToken, SignInLinks, startServe } from '../../serve/index.ts';
import { type OpenedStateStore, openStateStore, type TokenRole } from '../../state/index.ts';
import { stopSignal } from '../../util/index.ts';
import type { CliIo, CommandResult } from '../types.ts';

export interface ServeOptions {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  state?: string;
  topology?: string;
  /** Make an operator token for this run of the server, print a one-time link that signs in with it. */
  signInLink?: boolean;
  json?: boolean;
}

const openStore = (state: string | undefined) =>
  openStateStore(state === undefined ? {} : { file: state });

/**
 * `uplift serve`: the dashboard's API over the state store until SIGINT or SIGTERM. It prints its
 * URL as soon as it listens; the result is printed when it stops.
 */
export async function serve(o: ServeOptions, io: CliIo): Promise<CommandResult> {
  const store = await openStore(o.state);
  try {
    const links = o.signInLink ? new SignInLinks() : undefined;
    const server = await startServe({
      store,
      controller: `serve:${controllerId()}`,
      ...(o.listen === undefined ? {} : { listen: o.listen }),
      ...(o.tlsCert === undefined ? {} : { tlsCert: o.tlsCert }),
      ...(o.tlsKey === undefined ? {} : { tlsKey: o.tlsKey }),
      ...(o.topology === undefined ? {} : { topology: o.topology }),
      // Rollout jobs run this same uplift, as it was started, on the same store.
      ...(process.argv[1] === undefined
        ? {}
        : {
            rollouts: {
              cli: [process.execPath, ...process.execArgv, process.argv[1]],
              ...(o.state === undefined ? {} : { state: resolve(o.state) }),
            },
          }),
      // Refusals go to standard error; the lines never carry a token, a cookie or a password.
      app: {
        log: (line) => io.stderr(`serve: ${line}\n`),
        ...(links === undefined ? {} : { signInLinks: links }),
      },
    });
    const listening = { url: server.url, pid: process.pid, state: store.label };
    let linked: { name: string; link: string } | undefined;
    try {
      if (links) {
        const name = `link-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
        const { token } = await createServeToken(store, name, 'operator');
        await auditToken(store, 'serve.token.create', { name, role: 'operator', via: 'link' });
        linked = { name, link: `${server.url}/sign-in/${links.issue(token)}` };
      }
      // The link is printed here once, and nowhere else (not in the result printed at the stop).
      io.stdout(
        o.json
          ? `${JSON.stringify({ ...listening, ...(linked ? { signIn: linked.link, token: linked.name } : {}) })}\n`
          : `Serving the uplift API at ${server.url} (state ${store.label}, pid ${process.pid}); Ctrl-C stops it.\n${
              linked
                ? `Sign in (the link works once, as the operator token ${linked.name}, revoked when this server stops):\n    ${linked.link}\n`
                : 'Sign in with a token from: uplift serve token create NAME --role viewer|operator\n'
            }`,
      );
      const signal = await stopSignal();
      return {
        data: { ...listening, stopped: signal },
        text: `Stopped serving (${signal}).\n`,
        exitCode: ExitCode.ok,
      };
    } finally {
      await server.close();
      if (linked) {
        await revokeServeToken(store, linked.name);
        await auditToken(store, 'serve.token.revoke', { name: linked.name });
      }
    }
  } finally {
    await store.close().catch(() => {});
  }
}

const auditToken = (store: OpenedStateStore, action: string, detail: Record<string, unknown>) =>
  store.audit({ actor: actorName(), controller: controllerId(), action, outcome: 'ok', detail });

/** `uplift serve token create NAME --role R`: the token is printed here once and stored hashed. */
export async function tokenCreate(
  name: string,
  o: { role: TokenRole; state?: string },
): Promise<CommandResult> {
  return withStore(o.state, async (store) => {
    const { token, record } = await createServeToken(store, name, o.role);
    await store.audit({
      actor: actorName(),
      controller: controllerId(),
      action: 'serve.token.create',
      outcome: 'ok',
      detail: { name, role: o.role },
    });
    return {
      data: { ...record, token },
      text: `token ${name} (${o.role}): ${token}\nIt is shown this once and stored only as a hash; keep it in a password manager.\n`,
      exitCode: ExitCode.ok,
    };
  });
}

/** `uplift serve token list`: names, roles and dates; never a token or a hash. */
export async function tokenList(o: { state?: string }): Promise<CommandResult> {
  return withStore(o.state, async (store) => {
    const tokens = await store.listTokens();
    const text =
      tokens.length === 0
        ? 'no tokens: uplift serve token create NAME --role viewer|operator\n'
        : `${tokens.map((t) => `${t.name}  ${t.role}  created ${t.createdAt}${t.revokedAt ? `  revoked ${t.revokedAt}` : ''}`).join('\n')}\n`;
    return { data: { tokens }, text, exitCode: ExitCode.ok };
  });
}

/** `uplift serve token revoke NAME`: its sessions end at their next request. */
export async function tokenRevoke(name: string, o: { state?: string }): Promise<CommandResult> {
  return withStore(o.state, async (store) => {
    await revokeServeToken(store, name);
    await store.audit({
      actor: actorName(),
      controller: controllerId(),
      action: 'serve.token.revoke',
      outcome: 'ok',
      detail: { name },
    });
    return {
      data: { name, revoked: true },
      text: `token ${name} revoked\n`,
      exitCode: ExitCode.ok,
    };
  });
}

async function withStore<T>(
  state: string | undefined,
  f: (store: OpenedStateStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(state);
  try {
    return await f(store);
  } finally {
    await store.close().catch(() => {});
  }
}
