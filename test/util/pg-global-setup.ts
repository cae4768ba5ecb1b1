import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type PgServer, stopPostgresServer } from './postgres-server.ts';

/**
 * The shared PostgreSQL of one `vitest run` (test/util/postgres.ts): this makes the folder it
 * lives in and stops it at the end. The first test file that needs it starts it, so a run without
 * PostgreSQL tests pays nothing.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-pg-shared-'));
  // The server runs as `postgres` when the tests run as root, and must reach its folder inside.
  chmodSync(dir, 0o755);
  project.provide('upliftPgDir', dir);
  return () => {
    const info = join(dir, 'server.json');
    if (existsSync(info)) stopPostgresServer(JSON.parse(readFileSync(info, 'utf8')) as PgServer);
    rmSync(dir, { recursive: true, force: true });
  };
}
