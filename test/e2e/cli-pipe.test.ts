import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';

describe('uplift writing into a pipe that closes early', () => {
  it('stops quietly when the reader goes away (`uplift notes … | true`)', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${cliPath}" notes --profile securetransport --from "5.2.1 SP1" | true`,
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
  });
});
