import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from './rollout.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-rollout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const topology = join(dir, 'uplift.yaml');
writeFileSync(
  topology,
  'topology: 1\nenvironments:\n  - name: test\n    deployments:\n      - { name: d, type: standalone, profile: p, nodes: [{ name: n, at: ./none }] }\n',
);
const io = { stdout: () => {}, stderr: () => {}, stderrIsTty: false, stdinIsTty: false };

describe('rollout creates no state store when it will not change anything', () => {
  it.each([
    ['a dry run', { dryRun: true }],
    ['a rollout without --yes and no terminal to ask on', {}],
  ])('%s', async (_name, o) => {
    const state = join(dir, `s${Math.random().toString(36).slice(2)}`, 'state.db');

    const err = await handler({ env: 'test', topology, state, ...o }, io).catch((e: unknown) => e);

    // It got past opening the store: the node (no such profile) is what stopped it.
    expect((err as Error).message).toMatch(/did not report their status/);

    expect(existsSync(state)).toBe(false);
  });
});
