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

/**
 * The limits every network read of uplift runs under, whatever it reads (root and index metadata,
 * uplift packs, vendor downloads): `--timeout` means the same for all of them.
 */
export interface ReadLimits {
  /** Connect, wait for headers, and silence between body chunks; also the rate window. */
  timeoutMs: number;
  /** The rate the body must keep over each window (default {@link defaultMinBytesPerSecond}). */
  minBytesPerSecond?: number;
  /** The window the rate is judged over (default `timeoutMs`). */
  rateWindowMs?: number;
}

/** 1 KiB/s: slower than any link a repository is served over, faster than any slowloris. */
const defaultMinBytesPerSecond = 1024;

/**
 * The deadline of one request: `--timeout`, plus the time the bytes it expects take at the minimum
 * rate, so a response that keeps the minimum rate always fits, and one of unknown length must end
 * within `--timeout`.
 */
function deadlineOf(limits: ReadLimits, expectedBytes: number): number {
  const rate = limits.minBytesPerSecond ?? defaultMinBytesPerSecond;
  return limits.timeoutMs + Math.ceil((expectedBytes * 1000) / rate);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * Watches one request against its {@link ReadLimits}: the deadline from the start of the request,
 * and once headers are in, the minimum rate over each window. A breach aborts the request (and
 * destroys its body) with a timeout {@link TransferFailure} naming the URL, the rate and the deadline.
 */
function watchRequest(what: string, limits: ReadLimits, outer?: AbortSignal) {
  const rate = limits.minBytesPerSecond ?? defaultMinBytesPerSecond;
  const windowMs = limits.rateWindowMs ?? limits.timeoutMs;
  const started = Date.now();
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let deadlineMs = deadlineOf(limits, 0);
  let bytes = 0;
  let windowStart = 0;
  let failure: TransferFailure | undefined;
  let body: { destroy(err?: Error): void } | undefined;
  let rateTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  const terms = () =>
    `minimum rate of ${rate} bytes/s over ${seconds(windowMs)}, deadline ${seconds(deadlineMs)}`;
  const fail = (message: string) => {
    if (failure) return;
    failure = new TransferFailure(`${what}: ${message} (${terms()})`, {
      retryable: true,
      timeout: true,
    });
    stop();
    ac.abort(failure);
    body?.destroy(failure);
  };
  const armDeadline = () => {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(
      () => fail(`not done ${seconds(Date.now() - started)} after the request, past its deadline`),
      Math.max(0, started + deadlineMs - Date.now()),
    );
  };
  const stop = () => {
    if (rateTimer) clearInterval(rateTimer);
    if (deadlineTimer) clearTimeout(deadlineTimer);
    outer?.removeEventListener('abort', onOuter);
  };
  armDeadline();
  return {
    signal: ac.signal,
    get failure() {
      return failure;
    },
    terms,
    /** Headers are in: the deadline now counts the bytes announced, and the rate is judged. */
    started(expectedBytes: number, b: { destroy(err?: Error): void }) {
      body = b;
      deadlineMs = deadlineOf(limits, expectedBytes);
      armDeadline();
      rateTimer = setInterval(() => {
        const got = bytes - windowStart;
        if (got * 1000 < rate * windowMs)
          fail(`${got} bytes in the last ${seconds(windowMs)}, below the minimum rate`);
        windowStart = bytes;
      }, windowMs);
    },
    count(n: number) {
      bytes += n;
    },
    stop,
  };
}

export interface HttpOpenOptions {
  dispatcher: Dispatcher;
  limits: ReadLimits;
  signal?: AbortSignal;
  /** Ask for the bytes from here on (`Range: bytes=N-`). */
  offset?: number;
  /** The ETag or Last-Modified of the bytes already held, for `If-Range`. */
  validator?: string;
  /** The most bytes the answer may count towards its deadline (metadata's size cap). */
  maxBytes?: number;
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

/**
 * One GET, the single HTTP read path of uplift: every request (metadata, packs, vendor downloads)
 * runs under the same {@link ReadLimits}. 5xx, 408 and 429 are retryable failures; other non-2xx
 * answers are final.
 */
export async function openHttp(url: URL, o: HttpOpenOptions): Promise<HttpOpened> {
  const headers: Record<string, string> = { 'user-agent': 'uplift', 'accept-encoding': 'identity' };
  if (o.offset && o.offset > 0) {
    headers.range = `bytes=${o.offset}-`;
    if (o.validator) headers['if-range'] = o.validator;
  }
  const what = redactUrl(url);
  const watch = watchRequest(what, o.limits, o.signal);
  // A timeout of undici's own (connect, headers, silence) is reported with the same terms.
  const failureOf = (err: unknown): TransferFailure => {
    if (watch.failure) return watch.failure;
    const f = classifyNetworkError(o.signal?.aborted ? o.signal.reason : err, what);
    return f.timeout && !(err instanceof TransferFailure)
      ? new TransferFailure(
          `${what}: no answer or no data for ${seconds(o.limits.timeoutMs)} (${watch.terms()})`,
          { retryable: true, timeout: true },
        )
      : f;
  };
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: 'GET',
      headers,
      dispatcher: o.dispatcher,
      headersTimeout: o.limits.timeoutMs,
      bodyTimeout: o.limits.timeoutMs,
      signal: watch.signal,
    });
  } catch (err) {
    watch.stop();
    throw failureOf(err);
  }
  // Bodies given up on are destroyed; their abort must not surface as an unhandled 'error'.
  res.body.on('error', () => undefined);
  const h = res.headers;
  const validator = header(h, 'etag') ?? header(h, 'last-modified');
  const raw = res.body;
  const guarded = {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of raw) {
          watch.count((chunk as Buffer).length);
          yield chunk as Uint8Array;
        }
      } catch (err) {
        throw failureOf(err);
      } finally {
        watch.stop();
      }
      if (watch.failure) throw watch.failure;
    },
    destroy(err?: Error) {
      watch.stop();
      raw.destroy(err);
    },
  };
  const length = Number(header(h, 'content-length'));
  const announced = Number.isFinite(length) && length >= 0 ? length : 0;
  const begin = () => watch.started(Math.min(announced, o.maxBytes ?? announced), raw);
  if (res.statusCode === 200) {
    begin();
    return {
      kind: 'full',
      start: 0,
      total: Number.isFinite(length) ? length : undefined,
      validator,
      body: guarded,
    };
  }
  if (res.statusCode === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(h, 'content-range') ?? '');
    if (!m) {
      guarded.destroy();
      throw new TransferFailure(`${what}: a 206 answer without a usable Content-Range`, {
        retryable: true,
      });
    }
    begin();
    return {
      kind: 'partial',
      start: Number(m[1]),
      total: m[3] === '*' ? undefined : Number(m[3]),
      validator,
      body: guarded,
    };
  }
  guarded.destroy();
  if (res.statusCode === 416) return { kind: 'unsatisfiable', start: 0, body: guarded };
  const retryable = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
  throw new TransferFailure(`${what}: HTTP ${res.statusCode}`, {
    retryable,
    status: res.statusCode,
    retryAfterMs: retryAfterMs(header(h, 'retry-after')),
  });
}
