import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createSkiffServer } from './http-server.ts';
import { readReleaseInfo } from './release.ts';
import { loadDependencies } from './runtime.ts';
import { startScheduler } from './scheduler.ts';
import { loadServerSettings, SettingsError } from './settings.ts';
import { prepareDatabase } from './tracking.ts';

// The skiff server process: `node lib/server.js`, started by bin/start_all.
const home = resolve(import.meta.dirname, '..');
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const release = readReleaseInfo(home);
const portFile = join(home, 'var/run/skiff.port');

async function main(): Promise<void> {
  const { Database, parseYaml } = loadDependencies(home);
  const settings = loadServerSettings(home, release);
  const db = new Database(join(home, 'var/db/skiff.db'));
  prepareDatabase(db, release.features);
  const ctx = { home, release, settings, db, startedAt: Date.now(), log };
  const server = createSkiffServer(ctx);
  // From 5.4 GA the scheduler is its own process (lib/run-scheduler.js), started by bin/start_all.
  const scheduler = release.features.schedulerProcess
    ? undefined
    : startScheduler({ home, db, features: release.features }, parseYaml, log);

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(settings.port, settings.host, done);
  });
  const { port } = server.address() as AddressInfo;
  // Written atomically: bin/start_all's health probe reads it while we start.
  writeFileSync(`${portFile}.tmp`, `${port}\n`);
  renameSync(`${portFile}.tmp`, portFile);
  const scheme = settings.tls ? 'https' : 'http';
  log(
    `skiff ${release.version} listening on ${scheme}://${settings.host}:${port} (pid ${process.pid})`,
  );

  const shutdown = (signal: string) => {
    log(`${signal}: stopping; finishing transfers in progress`);
    scheduler?.stop();
    // Transfers in progress get 10 s; idle keep-alive connections close at once.
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    server.close(() => {
      clearTimeout(force);
      db.close();
      rmSync(portFile, { force: true });
      log('stopped');
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

try {
  await main();
} catch (err) {
  log(
    `cannot start skiff ${release.version}: ${err instanceof SettingsError ? err.message : ((err as Error).stack ?? String(err))}`,
  );
  process.exitCode = 1;
}
