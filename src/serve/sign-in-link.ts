import { createHash, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';

/**
 * One-time sign-in links (Jupyter style): `uplift serve --sign-in-link` prints
 * `http://127.0.0.1:8080/sign-in/<code>` once; opening it exchanges the code for a session of the
 * token it was issued for, and the code is gone. Codes live in this process's memory, keyed by
 * their sha256 (a lookup's timing says nothing about a real code), 32 random bytes each.
 */
export class SignInLinks {
  readonly #tokens = new Map<string, string>();

  /** A new code that signs in once with `token`. */
  issue(token: string): string {
    const code = randomBytes(32).toString('base64url');
    this.#tokens.set(codeHash(code), token);
    return code;
  }

  /** The token a code was issued for, once; undefined for an unknown or used code. */
  redeem(code: string): string | undefined {
    const key = codeHash(code);
    const token = this.#tokens.get(key);
    this.#tokens.delete(key);
    return token;
  }
}

const codeHash = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');

/**
 * `GET /sign-in/:code`: the session cookie for the code's token and a redirect to the dashboard
 * (`/`), or the refusal `signIn` gives for no token (401, counted by the sign-in rate limit; a
 * rate-limited address gets 429 without spending the code).
 * Registered only when the server issues links.
 */
export function registerSignInLinkRoute<E extends { Variables: object }>(
  app: Hono<E>,
  links: SignInLinks | undefined,
  signIn: (c: Context<E>, take: () => string | undefined) => Promise<Response | object>,
): void {
  if (links === undefined) return;
  app.get('/sign-in/:code', async (c) => {
    c.header('Cache-Control', 'no-store');
    const code = c.req.param('code');
    const r = await signIn(c, () =>
      /^[A-Za-z0-9_-]{43}$/.test(code) ? links.redeem(code) : undefined,
    );
    return r instanceof Response ? r : c.redirect('/', 303);
  });
}
