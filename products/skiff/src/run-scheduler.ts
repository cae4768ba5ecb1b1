import { join, resolve } from 'node:path';
import { readReleaseInfo } from './release.ts';
import { loadDependencies } from './runtime.ts';
import { startScheduler } from './scheduler.ts';
import { prepareDatabase } from './tracking.ts';

// The scheduler process of 5.4 GA and later: `node lib/run-scheduler.js`, started by bin/start_all.
const home = resolve(import.meta.dirname, '..');
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const release = readReleaseInfo(home);
const { Database, parseYaml } = loadDependencies(home);
const db = new Database(join(home, 'var/db/skiff.db'));
prepareDatabase(db, release.features);
const scheduler = startScheduler({ home, db, features: release.features }, parseYaml, log);
log(`skiff ${release.version} scheduler started (pid ${process.pid})`);

const stop = (signal: string) => {
  scheduler.stop();
  db.close();
  log(`${signal}: scheduler stopped`);
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
