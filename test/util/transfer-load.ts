import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';

/**
 * A client that uploads and downloads without pause through a balancer, the way the guide's
 * active/passive upgrade must not disturb: N workers, each in a loop, PUT a file of random content
 * (random size, unique name), GET it back (every other time on a new connection) and compare its
 * SHA-256, then GET a file another worker uploaded earlier. Connections are kept alive like a real
 * client's. Nothing is retried: a refused, reset or non-2xx request counts as failed, so a
 * disturbance cannot hide. `stop()` lets every transfer in flight finish, then downloads every
 * uploaded file once more and checks it (the final verification pass), and reports.
 */

export interface TransferLoadOptions {
  /** `http://127.0.0.1:<port>`: the balancer's frontend. */
  url: string;
  account: { name: string; password: string };
  /** Concurrent workers (default 4). */
  workers?: number;
  /** Sizes of the files, in bytes (default 1 KiB to 1 MiB). */
  minBytes?: number;
  maxBytes?: number;
  /** A pause between a worker's rounds (default 10 ms), so a busy machine keeps up. */
  pauseMs?: number;
  /** The folder in the account the files go to (default `load-<random>`). */
  folder?: string;
}

export interface TransferFailure {
  /** Milliseconds since the start. */
  at: number;
  what: 'upload' | 'download' | 'verify';
  path: string;
  /** The HTTP status, or the socket error's code. */
  error: string;
}

export interface TransferCounts {
  uploadsOk: number;
  uploadsFailed: number;
  downloadsOk: number;
  downloadsFailed: number;
  checksumMismatches: number;
  /** Of the downloads: files another worker uploaded. */
  crossDownloadsOk: number;
  bytesUp: number;
  bytesDown: number;
}

export interface TransferReport extends TransferCounts {
  seconds: number;
  /** The final pass: every file uploaded, downloaded once more and checked. */
  verify: { files: number; ok: number; failed: number; checksumMismatches: number };
  /** Every failure (at most 50 kept), for a test's message. */
  failures: TransferFailure[];
}

export interface TransferLoad {
  /** The counts so far. */
  counts(): TransferCounts;
  stop(): Promise<TransferReport>;
}

interface Stored {
  path: string;
  sha256: string;
  worker: number;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Answer {
  status: number;
  body: Buffer;
}

function exchange(
  url: URL,
  o: { method: string; agent: Agent | false; headers: Record<string, string>; body?: Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method,
        agent: o.agent,
        headers: { ...o.headers, ...(o.body ? { 'content-length': o.body.length } : {}) },
        timeout: 60_000,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (!res.complete) reject(Object.assign(new Error('response cut'), { code: 'CUT' }));
          else resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(o.body);
  });
}

export function startTransferLoad(o: TransferLoadOptions): TransferLoad {
  const started = Date.now();
  const workers = o.workers ?? 4;
  const minBytes = o.minBytes ?? 1024;
  const maxBytes = o.maxBytes ?? 1024 * 1024;
  const folder = o.folder ?? `load-${randomBytes(4).toString('hex')}`;
  const auth = `Basic ${Buffer.from(`${o.account.name}:${o.account.password}`).toString('base64')}`;
  const agent = new Agent({ keepAlive: true, maxSockets: workers * 2 });
  const c: TransferCounts = {
    uploadsOk: 0,
    uploadsFailed: 0,
    downloadsOk: 0,
    downloadsFailed: 0,
    checksumMismatches: 0,
    crossDownloadsOk: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  const stored: Stored[] = [];
  const failures: TransferFailure[] = [];
  let stopping = false;

  const fileUrl = (path: string) => new URL(`/files/${path}`, o.url);
  const fail = (what: TransferFailure['what'], path: string, err: unknown) => {
    const error =
      typeof err === 'number' ? `HTTP ${err}` : String((err as { code?: string }).code ?? err);
    if (failures.length < 50) failures.push({ at: Date.now() - started, what, path, error });
  };

  /** One download and its check; true when the bytes are the ones uploaded. */
  const download = async (
    s: Stored,
    fresh: boolean,
    what: 'download' | 'verify' = 'download',
  ): Promise<'ok' | 'failed' | 'mismatch'> => {
    try {
      const r = await exchange(fileUrl(s.path), {
        method: 'GET',
        agent: fresh ? false : agent,
        headers: { authorization: auth },
      });
      if (r.status !== 200) {
        fail(what, s.path, r.status);
        return 'failed';
      }
      c.bytesDown += r.body.length;
      if (sha256(r.body) !== s.sha256) {
        fail(what, s.path, 'checksum mismatch');
        return 'mismatch';
      }
      return 'ok';
    } catch (err) {
      fail(what, s.path, err);
      return 'failed';
    }
  };

  const count = (outcome: 'ok' | 'failed' | 'mismatch', cross: boolean) => {
    if (outcome === 'ok') {
      c.downloadsOk++;
      if (cross) c.crossDownloadsOk++;
    } else if (outcome === 'failed') c.downloadsFailed++;
    else c.checksumMismatches++;
  };

  const work = async (w: number) => {
    for (let n = 0; !stopping; n++) {
      const body = randomBytes(randomInt(minBytes, maxBytes + 1));
      const file: Stored = {
        path: `${folder}/w${w}-${n}-${randomBytes(3).toString('hex')}.bin`,
        sha256: sha256(body),
        worker: w,
      };
      let uploaded = false;
      try {
        const r = await exchange(fileUrl(file.path), {
          method: 'PUT',
          agent,
          headers: { authorization: auth, 'x-skiff-sha256': file.sha256 },
          body,
        });
        uploaded = r.status === 201;
        if (!uploaded) fail('upload', file.path, r.status);
      } catch (err) {
        fail('upload', file.path, err);
      }
      if (uploaded) {
        c.uploadsOk++;
        c.bytesUp += body.length;
        stored.push(file);
        count(await download(file, n % 2 === 1), false);
      } else c.uploadsFailed++;
      const others = stored.filter((s) => s.worker !== w);
      const other = others[randomInt(0, Math.max(1, others.length))];
      if (other) count(await download(other, false), true);
      await new Promise((r) => setTimeout(r, o.pauseMs ?? 10));
    }
  };

  const running = Array.from({ length: workers }, (_, w) => work(w));

  return {
    counts: () => ({ ...c }),
    async stop() {
      stopping = true;
      await Promise.all(running);
      const seconds = (Date.now() - started) / 1000;
      const verify = { files: stored.length, ok: 0, failed: 0, checksumMismatches: 0 };
      for (const s of stored) {
        const outcome = await download(s, true, 'verify');
        if (outcome === 'ok') verify.ok++;
        else if (outcome === 'failed') verify.failed++;
        else verify.checksumMismatches++;
      }
      agent.destroy();
      return { ...c, seconds, verify, failures };
    },
  };
}
