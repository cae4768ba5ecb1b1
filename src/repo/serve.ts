import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, sep } from 'node:path';
import { UpliftError } from '../errors/index.ts';

export interface ServeOptions {
  /** The repository folder (it must hold a root.json). */
  dir: string;
  /** Default 127.0.0.1: a repository is served to this machine unless the operator says otherwise. */
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
}

export interface RepositoryServer {
  /** `http://host:port/`, what `uplift fetch --repo` takes. */
  url: string;
  host: string;
  port: number;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves a repository folder over HTTP, read-only, as the static site docs/repository.md says any
 * web server can be: GET and HEAD of its files with their exact length, single byte ranges (so an
 * interrupted fetch resumes), ETag and Last-Modified. Refused with 404: folders (no listing), any
 * path with a dot segment or a name starting with a dot (the publisher's `.uplift/` notes are not
 * metadata), and anything that resolves outside the folder (a `..`, an encoded one, a symlink).
 */
export async function serveRepository(o: ServeOptions): Promise<RepositoryServer> {
  let root: string;
  try {
    root = await realpath(o.dir);
    await stat(join(root, 'root.json'));
  } catch {
    throw new UpliftError('UPLIFT_REPO_INVALID', `${o.dir} is not a repository: no root.json`, {
      hint: 'Give the folder that repo init made (it holds root.json and index.json).',
      location: { file: join(o.dir, 'root.json') },
    });
  }
  const host = o.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    answer(root, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UpliftError(
          'UPLIFT_USAGE',
          `cannot listen on ${host}:${o.port ?? 0}: ${err.code ?? err.message}`,
          {
            hint:
              err.code === 'EADDRINUSE'
                ? 'Another program uses that port: leave out --port to take a free one.'
                : 'Give --host an address of this machine (127.0.0.1 serves this machine only).',
          },
        ),
      ),
    );
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    host,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

async function answer(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 }).end();
    return;
  }
  const file = await fileOf(root, req.url ?? '/');
  if (file === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end(req.method === 'HEAD' ? undefined : 'not found\n');
    return;
  }
  const { path, size, mtime } = file;
  const etag = `"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
  const headers: Record<string, string | number> = {
    'accept-ranges': 'bytes',
    etag,
    'last-modified': mtime.toUTCString(),
    'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'cache-control': 'no-cache',
  };
  const range = rangeOf(req, etag, mtime, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  headers['content-length'] = size === 0 ? 0 : end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const body = createReadStream(path, { start, end });
  body.on('error', () => res.destroy());
  body.pipe(res);
}

/** The file a request path names inside `root`, or undefined when it must not be served. */
async function fileOf(
  root: string,
  url: string,
): Promise<{ path: string; size: number; mtime: Date } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  const segments = decoded.split('/').filter((s) => s !== '');
  if (
    segments.length === 0 ||
    segments.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0'))
  )
    return undefined;
  try {
    const path = await realpath(join(root, ...segments));
    if (!path.startsWith(root + sep)) return undefined;
    const st = await stat(path);
    return st.isFile() ? { path, size: st.size, mtime: st.mtime } : undefined;
  } catch {
    return undefined;
  }
}

/** A single `bytes=a-b` range (honoured only when If-Range still matches), else the whole file. */
function rangeOf(
  req: IncomingMessage,
  etag: string,
  mtime: Date,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (header === undefined) return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== etag && ifRange !== mtime.toUTCString())
    return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(size - Number(m[2]), 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}
