import type { SessionInfo } from './types.ts';

/** A refusal of the API: its status and the coded error body (docs/api.md, Errors). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, hint?: string, body?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.body = body;
  }
}

/**
 * The session's CSRF token: held in memory only (never in storage), sent as X-CSRF-Token on every
 * state-changing request. The session itself is the HttpOnly cookie, which this code never sees.
 */
let csrfToken = '';

export function rememberSession(s: SessionInfo): SessionInfo {
  csrfToken = s.csrfToken;
  return s;
}

/** Calls the API on this origin; a refusal throws ApiError with the server's code and message. */
export async function api<T>(
  path: string,
  init: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown } = {},
): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)
      ?.error;
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? `the server answered ${res.status}`,
      e?.hint,
      body,
    );
  }
  return body as T;
}

export async function signIn(token: string): Promise<SessionInfo> {
  return rememberSession(
    await api<SessionInfo>('/api/session', { method: 'POST', body: { token } }),
  );
}

/** The current session, or undefined when there is none (401). */
export async function currentSession(): Promise<SessionInfo | undefined> {
  try {
    return rememberSession(await api<SessionInfo>('/api/session'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    throw e;
  }
}

export async function signOut(): Promise<void> {
  await api('/api/session', { method: 'DELETE' });
  csrfToken = '';
}

export const errorText = (e: unknown): string =>
  e instanceof ApiError
    ? `${e.message} (${e.code}${e.hint ? `; ${e.hint}` : ''})`
    : e instanceof Error
      ? e.message
      : String(e);
