import { type Dispatcher, EnvHttpProxyAgent, request } from 'undici';

/**
 * HTTP for the repository client. Node 20's global fetch ignores HTTP(S)_PROXY, so requests go
 * through undici's EnvHttpProxyAgent, which honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY (and
 * their lowercase forms).
 */
export function proxyAwareAgent(connectTimeoutMs: number): Dispatcher {
  return new EnvHttpProxyAgent({ connect: { timeout: connectTimeoutMs } });
}

/**
 * The wait before retry `attempt` (0-based): exponential from `baseMs` (default
 * `UPLIFT_FETCH_BACKOFF_MS`, else 500 ms) with jitter over its upper half, at least what the
 * server asked for in Retry-After, at most 30 s.
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs?: number,
  baseMs = backoffBase(),
): number {
  const exp = Math.min(30_000, baseMs * 2 ** attempt);
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.min(30_000, Math.max(jittered, retryAfterMs ?? 0));
}

function backoffBase(): number {
  const v = Number(process.env.UPLIFT_FETCH_BACKOFF_MS);
  return process.env.UPLIFT_FETCH_BACKOFF_MS !== undefined && Number.isFinite(v) && v >= 0
    ? v
    : 500;
}

/** A URL for messages: user name and password replaced, so credentials never reach a log. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return u.href;
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//***@');
  }
}

/** What went wrong with one attempt, and whether another attempt may help. */
export class TransferFailure extends Error {
  readonly retryable: boolean;
  readonly timeout: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    opts: { retryable: boolean; timeout?: boolean; status?: number; retryAfterMs?: number },
  ) {
    super(message);
    this.name = 'TransferFailure';
    this.retryable = opts.retryable;
    this.timeout = opts.timeout ?? false;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

const timeoutCodes = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** Turns a network error into a {@link TransferFailure}; network trouble is always worth a retry. */
export function classifyNetworkError(err: unknown, what: string): TransferFailure {
  if (err instanceof TransferFailure) return err;
  const e = err as { code?: string; message?: string; name?: string; cause?: unknown };
  const cause = e.cause as { code?: string; message?: string } | undefined;
  const code = e.code ?? cause?.code;
  if ((code && timeoutCodes.has(code)) || e.name === 'TimeoutError')
    return new TransferFailure(`${what}: no data for too long (${code ?? 'timeout'})`, {
      retryable: true,
      timeout: true,
    });
  if (cause instanceof TransferFailure) return cause;
  return new TransferFailure(`${what}: ${code ?? e.message ?? String(err)}`, { retryable: true });
}

export interface HttpOpenOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Ask for the bytes from here on (`Range: bytes=N-`). */
  offset?: number;
  /** The ETag or Last-Modified of the bytes already held, for `If-Range`. */
  validator?: string;
}

export interface HttpOpened {
  /** `full`: the whole file from byte 0; `partial`: from `start`; `unsatisfiable`: 416. */
  kind: 'full' | 'partial' | 'unsatisfiable';
  start: number;
  /** The whole file's size when the server says it. */
  total?: number;
  validator?: string;
  body: AsyncIterable<Uint8Array> & { destroy(err?: Error): void };
}

function header(
  h: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** One GET. 5xx and 429 are retryable failures; other non-2xx answers are final. */
export async function openHttp(url: URL, o: HttpOpenOptions): Promise<HttpOpened> {
  const headers: Record<string, string> = { 'user-agent': 'uplift', 'accept-encoding': 'identity' };
  if (o.offset && o.offset > 0) {
    headers.range = `bytes=${o.offset}-`;
    if (o.validator) headers['if-range'] = o.validator;
  }
  const what = redactUrl(url);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      headers,
      dispatcher: o.dispatcher,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal: o.signal,
    });
  } catch (err) {
    throw classifyNetworkError(o.signal?.reason ?? err, what);
  }
  // Bodies given up on are destroyed; their abort must not surface as an unhandled 'error'.
  res.body.on('error', () => undefined);
  const h = res.headers;
  const validator = header(h, 'etag') ?? header(h, 'last-modified');
  if (res.statusCode === 200) {
    const len = Number(header(h, 'content-length'));
    return {
      kind: 'full',
      start: 0,
      total: Number.isFinite(len) ? len : undefined,
      validator,
      body: res.body,
    };
  }
  if (res.statusCode === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(h, 'content-range') ?? '');
    if (!m) {
      res.body.destroy();
      throw new TransferFailure(`${what}: a 206 answer without a usable Content-Range`, {
        retryable: true,
      });
    }
    return {
      kind: 'partial',
      start: Number(m[1]),
      total: m[3] === '*' ? undefined : Number(m[3]),
      validator,
      body: res.body,
    };
  }
  res.body.destroy();
  if (res.statusCode === 416) return { kind: 'unsatisfiable', start: 0, body: res.body };
  const retryable = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
  throw new TransferFailure(`${what}: HTTP ${res.statusCode}`, {
    retryable,
    status: res.statusCode,
    retryAfterMs: retryAfterMs(header(h, 'retry-after')),
  });
}
