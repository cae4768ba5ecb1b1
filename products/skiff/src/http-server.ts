import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Database } from 'better-sqlite3';
import { createAuthenticator } from './accounts.ts';
import { listFiles, parseFilePath } from './file-store.ts';
import { connectOutbound, OutboundError } from './proxy.ts';
import type { ReleaseInfo } from './release.ts';
import type { ServerSettings } from './settings.ts';
import { insertTransfer, listTransfers, type Transfer } from './tracking.ts';
import { appendXferlog, formatXferlogLine } from './xferlog.ts';

export interface ServerContext {
  home: string;
  release: ReleaseInfo;
  settings: ServerSettings;
  db: Database;
  startedAt: number;
  log: (line: string) => void;
}

/** A request that cannot be served; becomes a JSON `{ error }` response. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Hashes and counts what flows through, for the tracking row. */
function measure() {
  const hash = createHash('sha256');
  const m = {
    bytes: 0,
    digest: () => hash.digest('hex'),
    async *tap(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        m.bytes += chunk.length;
        yield chunk;
      }
    },
  };
  return m;
}

export function createSkiffServer(ctx: ServerContext): Server {
  const { home, release, settings, db } = ctx;
  const authenticate = createAuthenticator(join(home, 'conf/accounts.json'));
  const xferlog = join(home, 'var/log/xferlog');

  const record = (t: Omit<Transfer, 'id'>, remote: string) => {
    const id = insertTransfer(db, release.features.trackingTable, t);
    appendXferlog(xferlog, [formatXferlogLine({ ...t, id }, remote)]);
  };

  /** Starts the clock on one transfer; the function it returns records how it ended. */
  const startTransfer = (
    account: string,
    path: string,
    direction: Transfer['direction'],
    remote: string,
  ) => {
    const start = Date.now();
    return (status: Transfer['status'], bytes: number, sha256: string) =>
      record({ account, path, bytes, sha256, direction, status, start, end: Date.now() }, remote);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // The raw path, not a WHATWG URL: URL parsing would resolve `..` and `%2e%2e` before we see them.
    const [rawPath = '/', query = ''] = (req.url ?? '/').split('?', 2);
    const method = req.method ?? 'GET';
    const remote = (req.socket.remoteAddress ?? '-').replace(/^::ffff:/, '');

    if (rawPath === '/health' || (rawPath === '/healthz' && release.features.healthz)) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'use GET');
      sendJson(res, 200, {
        status: 'ok',
        version: release.version,
        uptime: Math.round((Date.now() - ctx.startedAt) / 1000),
      });
      return;
    }

    const route = /^\/(files|transfers|send)(?=\/|$)\/?(.*)$/.exec(rawPath);
    if (!route) throw new HttpError(404, `no such endpoint: ${rawPath}`);
    const account = await authenticate(req.headers.authorization);
    if (!account) {
      sendJson(
        res,
        401,
        { error: 'wrong account name or password' },
        { 'www-authenticate': 'Basic realm="skiff"' },
      );
      return;
    }
    if (route[1] === 'transfers') {
      if (method !== 'GET') throw new HttpError(405, 'use GET');
      const limit = Number(new URLSearchParams(query).get('limit') ?? 100);
      sendJson(res, 200, {
        account,
        transfers: listTransfers(db, release.features.trackingTable, { account, limit }),
      });
      return;
    }

    const parsed = parseFilePath(route[2] ?? '');
    if (!parsed.ok) throw new HttpError(400, `bad path: ${parsed.reason}`);
    const root = join(settings.dataDir, account);
    const relPath = `/${parsed.segments.join('/')}`;
    const file = join(root, ...parsed.segments);

    if (route[1] === 'send') {
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      await send(account, relPath, file, new URLSearchParams(query).get('to'), res, remote);
      return;
    }

    if (method === 'GET' || method === 'HEAD') {
      const st = await stat(file).catch(() => undefined);
      if (!st) throw new HttpError(404, `no such file: ${relPath}`);
      if (st.isDirectory()) {
        sendJson(res, 200, {
          account,
          files: listFiles(file, parsed.segments.length ? relPath : ''),
        });
        return;
      }
      await download(account, relPath, file, st.size, method === 'HEAD', res, remote);
      return;
    }
    if (parsed.segments.length === 0) throw new HttpError(405, 'name a file: /files/<path>');
    if (method === 'PUT') await upload(account, relPath, file, req, res, remote);
    else if (method === 'DELETE') {
      await unlink(file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'EPERM'
          ? new HttpError(404, `no such file: ${relPath}`)
          : err;
      });
      res.writeHead(204).end();
    } else throw new HttpError(405, 'use GET, PUT or DELETE');
  };

  const upload = async (
    account: string,
    relPath: string,
    file: string,
    req: IncomingMessage,
    res: ServerResponse,
    remote: string,
  ) => {
    const finish = startTransfer(account, relPath, 'in', remote);
    const tmp = join(settings.partialDir, `${randomUUID()}.part`);
    const m = measure();
    const expected = release.features.uploadChecksum ? req.headers['x-skiff-sha256'] : undefined;
    const fail = async (status: number, message: string) => {
      await rm(tmp, { force: true });
      finish('failed', m.bytes, '');
      throw new HttpError(status, message);
    };
    try {
      await mkdir(settings.partialDir, { recursive: true });
      await pipeline(req, m.tap, createWriteStream(tmp));
    } catch {
      return fail(400, 'the upload was interrupted');
    }
    const sha256 = m.digest();
    if (typeof expected === 'string' && expected.toLowerCase() !== sha256) {
      return fail(422, `the content's SHA-256 is ${sha256}, not ${expected}`);
    }
    try {
      await mkdir(dirname(file), { recursive: true });
      await rename(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
        return fail(409, `${relPath} clashes with an existing folder or file`);
      }
      await rm(tmp, { force: true });
      throw err;
    }
    finish('completed', m.bytes, sha256);
    sendJson(res, 201, { path: relPath, bytes: m.bytes, sha256 });
  };

  const download = async (
    account: string,
    relPath: string,
    file: string,
    size: number,
    headOnly: boolean,
    res: ServerResponse,
    remote: string,
  ) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    if (headOnly) {
      res.end();
      return;
    }
    const finish = startTransfer(account, relPath, 'out', remote);
    const m = measure();
    let status: Transfer['status'] = 'completed';
    await pipeline(createReadStream(file), m.tap, res).catch(() => {
      // A client that closes its end as soon as it has the last byte can beat the response's
      // 'finish': every byte was handed over and the response ended, so the download completed.
      if (!(res.writableEnded && m.bytes === size)) status = 'failed';
    });
    finish(status, m.bytes, m.digest());
  };

  const send = async (
    account: string,
    relPath: string,
    file: string,
    to: string | null,
    res: ServerResponse,
    remote: string,
  ) => {
    let target: URL;
    try {
      target = new URL(to ?? '');
    } catch {
      throw new HttpError(400, 'name the partner: ?to=http://host:port/path');
    }
    if (target.protocol !== 'http:')
      throw new HttpError(400, 'only http:// partners are supported');
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new HttpError(404, `no such file: ${relPath}`);
    const finish = startTransfer(account, relPath, 'out', remote);
    let connection: Awaited<ReturnType<typeof connectOutbound>>;
    try {
      connection = await connectOutbound(
        { host: target.hostname, port: Number(target.port || 80) },
        settings.outbound,
      );
    } catch (err) {
      if (err instanceof OutboundError) {
        finish('failed', 0, '');
        sendJson(res, 502, { error: err.message, code: err.code });
        return;
      }
      throw err;
    }
    const m = measure();
    const answer = await new Promise<number>((resolve, reject) => {
      const out = request(
        target,
        {
          method: 'PUT',
          createConnection: () => connection.socket,
          headers: { 'content-length': st.size },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      out.once('error', reject);
      pipeline(createReadStream(file), m.tap, out).catch(reject);
    }).catch(() => 0);
    const ok = answer >= 200 && answer < 300;
    finish(ok ? 'completed' : 'failed', m.bytes, m.digest());
    sendJson(res, ok ? 200 : 502, {
      path: relPath,
      to: target.href,
      via: connection.via,
      partnerStatus: answer,
    });
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else {
        ctx.log(`error: ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
        sendJson(res, 500, { error: 'internal error; see var/log/server.log' });
      }
    });
  };

  // 16 KiB of request headers at most (SKF-297).
  const options = { maxHeaderSize: 16_384 };
  const { tls } = settings;
  if (!tls) return createHttpServer(options, listener);
  return createHttpsServer(
    {
      ...options,
      cert: readFileSync(tls.cert),
      key: readFileSync(tls.key),
      minVersion: tls.minVersion,
      maxVersion: tls.maxVersion,
      ciphers: tls.ciphers,
      honorCipherOrder: true,
    },
    listener,
  );
}
