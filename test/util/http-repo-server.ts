import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize } from 'node:path';

/**
 * A static HTTP server on 127.0.0.1 serving a repository folder the way a plain web server does
 * (ETag, Last-Modified, Range / If-Range, 404), with fault switches for the network tests of
 * reliability C.6. Faults apply to the paths they name (all paths when `path` is omitted).
 */
export interface Faults {
  /** Send this many body bytes, then nothing more, keeping the socket open (a stalled server). */
  stallAfterBytes?: number;
  /** With `stallAfterBytes`: then one more byte every `trickleMs` (slowloris). */
  trickleMs?: number;
  /** Send this many body bytes, then destroy the connection (a reset mid-body). */
  cutAfterBytes?: number;
  /** How many of the next requests the cut applies to (default: all). */
  cutTimes?: number;
  /** Answer 503 to the next K requests. */
  fail503Times?: number;
  /** Answer every request with 200 and the whole file, ignoring Range (a server without ranges). */
  ignoreRange?: boolean;
  /** Never answer: accept the request and send no headers. */
  noHeaders?: boolean;
  /** The path the faults apply to, e.g. `packs/a.upk`; undefined: every path. */
  path?: string;
}

export interface RecordedRequest {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
  /** The proxy-relayed absolute URL form, when the client spoke to us as a proxy would not. */
  url: string;
}

export interface RepoServer {
  url: string;
  port: number;
  faults: Faults;
  /** Bytes to serve instead of the file's own for a path (other content for the right name). */
  substitute: Map<string, Buffer>;
  requests: RecordedRequest[];
  /** Requests for one path. */
  requestsFor(path: string): RecordedRequest[];
  close(): Promise<void>;
}

function etagOf(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;
}

export async function startRepoServer(
  root: string,
  opts: { prefix?: string } = {},
): Promise<RepoServer> {
  const prefix = opts.prefix ?? '/';
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state: RepoServer = {
    url: '',
    port: 0,
    faults: {},
    substitute: new Map(),
    requests: [],
    requestsFor: (p) => state.requests.filter((r) => r.path === p),
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const applies = (path: string) => state.faults.path === undefined || state.faults.path === path;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const record: RecordedRequest = {
      path,
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      status: 0,
      url: req.url ?? '',
    };
    state.requests.push(record);
    const f = state.faults;
    if (applies(path) && f.noHeaders) return;
    if (applies(path) && (f.fail503Times ?? 0) > 0) {
      f.fail503Times = (f.fail503Times ?? 0) - 1;
      record.status = 503;
      res.writeHead(503, { 'retry-after': '0' }).end('busy');
      return;
    }
    const rel = normalize(path);
    if (!url.pathname.startsWith(prefix) || rel.startsWith('..') || rel.startsWith('/')) {
      record.status = 404;
      res.writeHead(404).end();
      return;
    }
    let bytes: Buffer;
    let mtime: Date;
    try {
      const file = join(root, rel);
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      bytes = state.substitute.get(path) ?? (await readFile(file));
      mtime = st.mtime;
    } catch {
      record.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    const etag = etagOf(bytes);
    const headers: Record<string, string | number> = {
      etag,
      'last-modified': mtime.toUTCString(),
      'content-type': 'application/octet-stream',
    };
    if (!f.ignoreRange || !applies(path)) headers['accept-ranges'] = 'bytes';
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (m && !(f.ignoreRange && applies(path)) && (ifRange === undefined || ifRange === etag)) {
      start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : bytes.length - 1;
      if (start >= bytes.length || end < start) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
      bytes = bytes.subarray(0, end + 1);
      status = 206;
    }
    const body = bytes.subarray(start);
    headers['content-length'] = body.length;
    record.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const fault = applies(path) ? f : {};
    if (fault.cutAfterBytes !== undefined && (fault.cutTimes ?? 1) > 0) {
      if (fault.cutTimes !== undefined) f.cutTimes = fault.cutTimes - 1;
      res.write(body.subarray(0, fault.cutAfterBytes), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    if (fault.stallAfterBytes !== undefined) {
      res.write(body.subarray(0, fault.stallAfterBytes));
      if (fault.trickleMs !== undefined) {
        let i = fault.stallAfterBytes;
        const t = setInterval(() => {
          if (i >= body.length || res.destroyed) {
            clearInterval(t);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body.subarray(i, i + 1));
          i++;
        }, fault.trickleMs);
        timers.add(t);
      }
      return;
    }
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}${prefix}`;
  return state;
}
