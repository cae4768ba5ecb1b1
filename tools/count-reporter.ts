import type { Reporter, TestModule } from 'vitest/node';

/** Prints the closing line CI reads: "N passed, N failed, N skipped". */
export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandled.length;
    let skipped = 0;
    for (const mod of modules) {
      const tests = [...mod.children.allTests()];
      // A file that failed to load has no tests but must still count as a failure.
      if (tests.length === 0 && mod.state() === 'failed') failed++;
      for (const t of tests) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
    }
    // Printed at exit so it lands after the default reporter's summary, as the last line.
    process.once('exit', () =>
      process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`),
    );
  }
}
