import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from './audit.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uplift audit', () => {
  it.each([
    ['a limit beyond what a number holds', { limit: '99999999999999999999' }, /--limit/],
    ['a day the month does not have', { since: '2025-02-30' }, /--since/],
  ])('refuses %s as a usage error and creates no store', async (_name, o, message) => {
    const state = join(dir, 'refused', 'state.db');

    const err = await handler({ ...o, state }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_USAGE', exitCode: 2, unchanged: true });
    expect((err as Error).message).toMatch(message);
    expect(existsSync(state)).toBe(false);
  });

  it('shows no entries for a store that does not exist, without creating it', async () => {
    const state = join(dir, 'missing', 'state.db');

    const r = await handler({ state });

    expect(r.exitCode).toBe(0);
    expect(r.data).toMatchObject({ entries: [] });
    expect(r.text).toMatch(/^no audit entries in .*state\.db/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
