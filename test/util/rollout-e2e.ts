import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RolloutResult } from '../../src/rollout/index.ts';
import type { AuditEntry as StoredAuditEntry } from '../../src/state/index.ts';
import { takePrivateCli, type UpliftRun } from './apply-skiff.ts';
import { stopAll, type TopologyNodeSpec } from './cluster-fixture.ts';
import { createTestDatabase, type StoreKind } from './postgres.ts';

export { describeEachStore, type StoreKind } from './postgres.ts';

import type { SshdInstance } from './sshd.ts';

/**
 * What the rollout e2e files (test/e2e/rollout-*.test.ts, check-env.test.ts) share: the CLI they
 * run, the arguments of a rollout, reading its `--json` lines and the audit log, and SSH nodes.
 */

/**
 * This file's CLI runs from a private snapshot of the build (`takePrivateCli`), taken before all
 * its tests (unless `skip`); after them, every fixture installation is stopped (`stopAll`) and the
 * snapshot removed. Call it before the file's own hooks: its afterAll then runs after theirs.
 */
export function runOnPrivateCli(o: { skip?: boolean } = {}): { readonly root: string } {
  let cli: { root: string; dispose: () => Promise<void> } | undefined;
  beforeAll(async () => {
    if (!o.skip) cli = await takePrivateCli();
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await cli?.dispose();
  }, 120_000);
  return {
    get root() {
      if (cli === undefined) throw new Error('the private CLI is taken in beforeAll');
      return cli.root;
    },
  };
}

export interface RolloutCall {
  /** The environment to roll out: `test` unless given. */
  env?: string;
  topology: string;
  /** The SQLite state file; without it, the store UPLIFT_DATABASE_URL names (or the default). */
  state?: string;
  /** The store of a test that runs against both kinds (`describeEachStore`): its arguments. */
  store?: TestStore;
  /** `--yes`, run without asking: true unless false. */
  yes?: boolean;
  /** `--json`, events and the result as JSON lines: true unless false. */
  json?: boolean;
}

/** The arguments of `uplift rollout --env … --topology … [--state …] [--yes] [--json]`, then `more`. */
export function rolloutArgs(c: RolloutCall, ...more: string[]): string[] {
  return [
    'rollout',
    '--env',
    c.env ?? 'test',
    '--topology',
    c.topology,
    ...(c.state === undefined ? [] : ['--state', c.state]),
    ...(c.store?.args ?? []),
    ...(c.yes === false ? [] : ['--yes']),
    ...(c.json === false ? [] : ['--json']),
    ...more,
  ];
}

/** The JSON objects among the lines of a `--json` run. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The last line of `uplift rollout --json`: its result, or `{ error }` when the run was refused
 * or failed before a result (then the result's fields are absent); `{}` without any JSON line.
 */
export type RolloutEnd = { type: 'result' } & RolloutResult & {
    error?: { code: string; message: string };
  };

/** The last `--json` line of a rollout (see RolloutEnd). */
export function rolloutEnd(stdout: string): RolloutEnd {
  const last = stdout
    .trim()
    .split('\n')
    .findLast((l) => l.startsWith('{'));
  return JSON.parse(last ?? '{}') as RolloutEnd;
}

/** `n1 upgrade 4.2 s, …`: how long each node step took, from the rollout's --json events. */
export function stepTimes(stdout: string): string {
  return jsonLines(stdout)
    .filter((e) => e.type === 'node' && e.state === 'ok')
    .map((e) => `${e.node} ${e.step} ${e.seconds} s`)
    .join(', ');
}

/** An entry as `uplift audit --json` prints it: the store's, with its time. */
export type AuditEntry = StoredAuditEntry & { at: string };

/** The entries of an `uplift audit … --json` run, oldest first, once it exited 0. */
export function auditEntries(r: UpliftRun): AuditEntry[] {
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { entries: AuditEntry[] }).entries;
}

/**
 * A topology node reached over `s` (root@127.0.0.1, `hostKey` pinned: `s`'s own unless given),
 * whose agent runs with `nodeRuntime` (this Node unless given) from the kit in `agentDir`.
 */
export function sshNode(
  s: SshdInstance,
  node: { name: string; install: string },
  o: { agentDir: string; hostKey?: string; nodeRuntime?: string },
): TopologyNodeSpec {
  return {
    name: node.name,
    at: `ssh://root@127.0.0.1:${s.port}${node.install}`,
    hostKey: o.hostKey ?? s.hostKeyLine,
    identity: s.identityFile,
    nodeRuntime: o.nodeRuntime ?? process.execPath,
    agentDir: o.agentDir,
  };
}

/**
 * A state store of either kind, as the CLI reaches it: SQLite through `--state` (a file in
 * `dir`), PostgreSQL through UPLIFT_DATABASE_URL (a fresh database on the test server). Pass
 * `args` after the command and `env` to the process.
 */
export interface TestStore {
  kind: StoreKind;
  args: string[];
  env: Record<string, string>;
}

export async function testStore(kind: StoreKind, dir: string): Promise<TestStore> {
  if (kind === 'sqlite') return { kind, args: ['--state', join(dir, 'state.db')], env: {} };
  return { kind, args: [], env: { UPLIFT_DATABASE_URL: await createTestDatabase() } };
}
