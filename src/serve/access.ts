import { createHash, randomBytes } from 'node:crypto';
import type { TokenRole } from '../state/index.ts';
import { hashToken, sameSecret } from './tokens.ts';

/** A signed-in browser: which token it signed in with and the CSRF token bound to it. */
export interface Session {
  name: string;
  role: TokenRole;
  /** The sha256 of the token it signed in with: checked live on every request (revocation). */
  tokenHash: string;
  csrfToken: string;
  expiresAt: number;
}

/**
 * Sessions in this process's memory, keyed by the sha256 of their id: a restart signs everyone out,
 * and a map lookup's timing says nothing about a real id. Absolute lifetime, no renewal.
 */
export class Sessions {
  readonly #byIdHash = new Map<string, Session>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  create(o: { name: string; role: TokenRole; token: string }): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      name: o.name,
      role: o.role,
      tokenHash: hashToken(o.token),
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: Date.now() + this.#ttlMs,
    };
    this.#sweep();
    this.#byIdHash.set(idHash(id), session);
    return { id, session };
  }

  get(id: string): Session | undefined {
    const key = idHash(id);
    const s = this.#byIdHash.get(key);
    if (s !== undefined && s.expiresAt <= Date.now()) {
      this.#byIdHash.delete(key);
      return undefined;
    }
    return s;
  }

  drop(id: string): void {
    this.#byIdHash.delete(idHash(id));
  }

  #sweep(): void {
    const now = Date.now();
    for (const [k, s] of this.#byIdHash) if (s.expiresAt <= now) this.#byIdHash.delete(k);
  }
}

const idHash = (id: string) => createHash('sha256').update(id).digest('hex');

/** Whether a request's X-CSRF-Token is its session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  return presented !== undefined && sameSecret(session.csrfToken, presented);
}

/**
 * Failed logins per client address in a sliding window: `limit` failures within `windowMs` and the
 * address must wait until the oldest of them leaves the window.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Seconds the address must wait before its next attempt, or 0. */
  retryAfter(address: string): number {
    const recent = this.#recent(address);
    if (recent.length < this.#limit) return 0;
    const oldest = recent[recent.length - this.#limit] as number;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - Date.now()) / 1000));
  }

  fail(address: string): void {
    this.#failures.set(address, [...this.#recent(address), Date.now()]);
  }

  succeed(address: string): void {
    this.#failures.delete(address);
  }

  #recent(address: string): number[] {
    const since = Date.now() - this.#windowMs;
    const recent = (this.#failures.get(address) ?? []).filter((t) => t > since);
    if (recent.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, recent);
    return recent;
  }
}
