#!/usr/bin/env node
/**
 * A test-only entry to the built CLI that injects faults from the environment, which the real
 * entry (dist/cli/main.js) never does:
 *   UPLIFT_TEST_CRASH_AT=<id>   SIGKILL at that crash point (ids in docs/backup.md, docs/apply.md)
 *   UPLIFT_TEST_NOW=<ISO time>  the time metadata expiry and freeze checks take as now
 * It imports dist/util/index.js, the module instance dist/cli/main.js loads too, sets the faults
 * there, then runs the CLI with the same arguments. A copy placed at <root>/test/util/ in a
 * snapshot of the build (takePrivateCli) drives that snapshot's dist/.
 */
import { setFaults } from '../../dist/util/index.js';

const crashAt = process.env.UPLIFT_TEST_CRASH_AT || undefined;
const nowText = process.env.UPLIFT_TEST_NOW;
const now = nowText ? new Date(nowText) : undefined;
if (now && Number.isNaN(now.getTime())) {
  process.stderr.write(`cli-with-faults: UPLIFT_TEST_NOW=${nowText} is not an ISO time\n`);
  process.exit(2);
}
setFaults({ crashAt, now });

await import('../../dist/cli/main.js');
