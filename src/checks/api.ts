import * as backup from './backup/index.ts';
import * as customizedFiles from './customized-files/index.ts';
import * as diskSpace from './disk-space/index.ts';
import * as externalDatabase from './external-database/index.ts';
import * as historyFolders from './history-folders/index.ts';
import * as leftoverPids from './leftover-pids/index.ts';
import * as oneUpgradeAtATime from './one-upgrade-at-a-time/index.ts';
import * as outsideLinks from './outside-links/index.ts';
import * as owner from './owner/index.ts';
import * as servicesStopped from './services-stopped/index.ts';
import * as tomcatPort from './tomcat-port/index.ts';
import type { Check } from './types.ts';

/**
 * The built-in checks by id, in the order `uplift check --only` lists them. Adding a check: a
 * folder with index.ts, index.test.ts and readme.md, and one `set` below; registry.test.ts holds
 * every entry to the contract and to the catalogs' `check:` ids.
 */
export const checks = new Map<string, Check>();

checks.set(diskSpace.id, diskSpace.api);
checks.set(servicesStopped.id, servicesStopped.api);
checks.set(leftoverPids.id, leftoverPids.api);
checks.set(tomcatPort.id, tomcatPort.api);
checks.set(owner.id, owner.api);
checks.set(externalDatabase.id, externalDatabase.api);
checks.set(customizedFiles.id, customizedFiles.api);
checks.set(historyFolders.id, historyFolders.api);
checks.set(oneUpgradeAtATime.id, oneUpgradeAtATime.api);
checks.set(backup.id, backup.api);
checks.set(outsideLinks.id, outsideLinks.api);
