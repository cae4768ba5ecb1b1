import { configDefaults, defineConfig } from 'vitest/config';
import CountReporter from './tools/count-reporter.ts';

/**
 * Test files that measure time and compare one measurement with another: they run after every
 * other file, one at a time, on a machine the rest of the suite has left. A measured upgrade
 * slowed by the tests beside it is a different figure, not a worse estimate (seen in CI: the
 * learned-estimate test's first, smaller upgrade migrated slower than the larger one).
 */
const measured = ['test/e2e/estimate-skiff.test.ts'];

export default defineConfig({
  test: {
    clearMocks: true,
    restoreMocks: true,
    // e2e tests spawn the built CLI; a cold spawn on a 2-core machine can take a few seconds.
    testTimeout: 30_000,
    // Hooks start and stop real servers (skiff, Verdaccio, sshd): 10 s, vitest's default, is too
    // short on a loaded 2-core machine (seen in CI: a skiff server test's beforeAll at 10 s).
    hookTimeout: 60_000,
    // Two files at once: vitest's default on 2 cores is one, and most e2e time is spent waiting
    // for real services (readiness windows, drains, SSH round trips), not on the CPU.
    maxWorkers: 2,
    minWorkers: 1,
    // The e2e suite needs dist/; build once before any worker starts. The PostgreSQL tests share
    // one server per run, started by the first file that needs it and stopped here.
    globalSetup: ['./test/util/global-setup.ts', './test/util/pg-global-setup.ts'],
    reporters: ['default', new CountReporter()],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: [
            'src/**/*.test.ts',
            'test/**/*.test.ts',
            'schemas/**/*.test.ts',
            'products/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...measured],
        },
      },
      // Group 1 starts when group 0 (the suite) has ended.
      { extends: true, test: { name: 'measured', include: measured, sequence: { groupOrder: 1 } } },
    ],
  },
});
