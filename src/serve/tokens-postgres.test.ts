import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresMissing } from '../../test/util/postgres.ts';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import { createServeToken, revokeServeToken, startServe } from './index.ts';

/** The token store of `uplift serve` on a real PostgreSQL: hashed at rest, revocable, signs in. */
const missing = postgresMissing();

describe('serve tokens on PostgreSQL', () => {
  if (missing !== undefined) {
    if (process.env.CI === 'true')
      it('has a PostgreSQL to test against', () => {
        throw new Error(missing);
      });
    else it.skip(`needs PostgreSQL (${missing})`, () => {});
    return;
  }
  let store: OpenedStateStore | undefined;
  afterAll(() => store?.close());

  it('stores a token as its hash, signs in with it, refuses a taken name and a revoked token', async () => {
    const url = await createTestDatabase();
    store = await openStateStore({ url, env: {} });
    const { token } = await createServeToken(store, 'pat', 'operator');
    const server = await startServe({ store, listen: '127.0.0.1:0', controller: 'serve:pg' });
    const signIn = () =>
      fetch(`${server.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    try {
      const before = await signIn();
      await revokeServeToken(store, 'pat');
      const after = await signIn();

      expect(before.status).toBe(200);
      expect(await before.json()).toMatchObject({ name: 'pat', role: 'operator' });
      expect(after.status).toBe(401);
    } finally {
      await server.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = (await client.query('SELECT * FROM serve_tokens')).rows;
    await client.end();

    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows).toMatchObject([
      { name: 'pat', role: 'operator', token_hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(rows[0].revoked_at).not.toBeNull();
    await expect(createServeToken(store, 'pat', 'viewer')).rejects.toMatchObject({
      code: 'UPLIFT_SERVE_TOKEN_EXISTS',
    });
    await expect(revokeServeToken(store, 'pat')).rejects.toMatchObject({
      code: 'UPLIFT_SERVE_TOKEN_UNKNOWN',
    });
    await expect(createServeToken(store, 'bad name', 'viewer')).rejects.toMatchObject({
      code: 'UPLIFT_SERVE_TOKEN_NAME',
    });
  });
});
