import { readFile } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { runCommand } from './run-command.ts';
import type { Check, HttpCheck } from './schema.ts';
import { head, redactUrl, tail } from './text.ts';
import type { CheckResult, LifecycleTarget } from './types.ts';
import { expandVars } from './vars.ts';

/** Bodies are read up to this size: a probe or smoke test matches a page, not a download. */
const BODY_LIMIT = 1024 * 1024;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The name a check is reported by: its own, or what it does. */
export function checkName(c: Check): string {
  if (c.name) return c.name;
  if (c.http) return `${c.http.method} ${redactUrl(c.http.url)}`;
  if (c.tcp) return `tcp ${c.tcp.host}:${c.tcp.port}`;
  return (c.command?.argv ?? []).join(' ');
}

/**
 * Runs one readiness probe or smoke test within `timeoutMs`. A failure is a value, with what the
 * check got; so is a variable that cannot be expanded yet (a port file not written so far).
 */
export async function runCheck(
  c: Check,
  t: LifecycleTarget,
  timeoutMs: number,
): Promise<CheckResult> {
  const ms = Math.max(1, Math.round(timeoutMs));
  try {
    if (c.http) return await runHttp(c.http, t, ms);
    if (c.tcp) return await runTcp(c.tcp, t, ms);
    const r = await runCommand(c.command as NonNullable<Check['command']>, t, { timeoutMs: ms });
    return r.code === 0
      ? { ok: true, detail: tail(r.output, 200) || 'exited 0' }
      : { ok: false, detail: `exited with ${r.code}: ${tail(r.output, 1000) || '(no output)'}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

async function runTcp(
  tcp: NonNullable<Check['tcp']>,
  t: LifecycleTarget,
  ms: number,
): Promise<CheckResult> {
  const host = await expandVars(tcp.host, t);
  const port = typeof tcp.port === 'number' ? tcp.port : Number(await expandVars(tcp.port, t));
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return { ok: false, detail: `tcp ${host}:${tcp.port}: ${port} is not a port` };
  const socket = netConnect({ host, port });
  try {
    await connected(socket, 'connect', ms);
    return { ok: true, detail: `tcp ${host}:${port} accepts connections` };
  } catch (err) {
    return { ok: false, detail: `tcp ${host}:${port}: ${(err as Error).message}` };
  } finally {
    socket.destroy();
  }
}

function connected(socket: Socket, event: string, ms: number): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`no connection within ${ms} ms`));
    }, ms);
    socket.once(event, () => {
      clearTimeout(timer);
      done();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(new Error(err.code ?? err.message));
    });
  });
}

function normalizeFingerprint(hex: string): string {
  return hex.replaceAll(':', '').toUpperCase();
}

/**
 * A TLS connection to a pinned server: the chain is not verified (a pinned certificate is
 * usually self-signed), the fingerprint is, before a byte of the request (its credentials) is sent.
 */
async function pinnedSocket(u: URL, h: HttpCheck, ms: number): Promise<TLSSocket> {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const servername = h.servername ?? (isIP(host) ? undefined : host);
  const socket = tlsConnect({
    host,
    port: Number(u.port || 443),
    servername,
    rejectUnauthorized: false,
  });
  await connected(socket, 'secureConnect', ms);
  const got = socket.getPeerCertificate().fingerprint256 ?? '';
  if (normalizeFingerprint(got) !== normalizeFingerprint(h.pinnedSha256 as string)) {
    socket.destroy();
    throw new Error(
      `the server's certificate (SHA-256 ${got || 'none'}) is not the pinned one (${h.pinnedSha256})`,
    );
  }
  return socket;
}

async function runHttp(h: HttpCheck, t: LifecycleTarget, ms: number): Promise<CheckResult> {
  const started = Date.now();
  const url = await expandVars(h.url, t);
  const shown = `${h.method} ${redactUrl(url)}`;
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { ok: false, detail: `${shown}: only http and https URLs can be probed` };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.headers ?? {})) headers[k] = await expandVars(v, t);
  const body = h.body === undefined ? undefined : await expandVars(h.body, t);
  if (u.username || u.password)
    headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const options = {
    method: h.method,
    headers,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port || (u.protocol === 'https:' ? 443 : 80),
    path: `${u.pathname}${u.search}`,
  };
  let res: { status: number; body: string };
  try {
    const deadline = started + ms;
    if (u.protocol === 'http:')
      res = await exchange(request({ ...options, agent: false }), body, deadline);
    else if (h.pinnedSha256) {
      const socket = await pinnedSocket(u, h, ms);
      // Plain http.request over the verified TLS socket (no agent: only then is createConnection
      // used); https.request would make a connection of its own.
      res = await exchange(request({ ...options, createConnection: () => socket }), body, deadline);
    } else {
      const ca = h.ca
        ? await readFile(resolve(t.install, await expandVars(h.ca, t)), 'utf8')
        : undefined;
      const servername = h.servername ?? (isIP(options.host) ? undefined : options.host);
      res = await exchange(
        httpsRequest({ ...options, agent: false, ca, servername }),
        body,
        deadline,
      );
    }
  } catch (err) {
    return { ok: false, detail: `${shown}: ${(err as Error).message}` };
  }
  const excerpt = head(res.body, 200);
  if (res.status !== h.status)
    return {
      ok: false,
      detail: `${shown} answered ${res.status} (expected ${h.status})${excerpt ? `: ${excerpt}` : ''}`,
    };
  const bodyMatch =
    h.bodyMatch === undefined ? undefined : await expandVars(h.bodyMatch, t, escapeRegExp);
  if (bodyMatch !== undefined && !new RegExp(bodyMatch).test(res.body))
    return {
      ok: false,
      detail: `${shown} answered ${res.status}, but its body does not match /${bodyMatch}/: ${excerpt || '(empty)'}`,
    };
  return { ok: true, detail: `${shown} answered ${res.status} in ${Date.now() - started} ms` };
}

function exchange(
  req: ReturnType<typeof request>,
  body: string | undefined,
  deadline: number,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const ms = Math.max(1, deadline - Date.now());
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${Math.round(ms)} ms`)),
      ms,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(
        new Error(
          err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message,
        ),
      );
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < BODY_LIMIT) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
    });
    req.end(body);
  });
}
