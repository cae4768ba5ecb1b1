import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';

/**
 * `uplift plan --ask`, the command the plan's next steps print when facts are missing: it asks for
 * each on standard input (here piped, as a script would answer), checks each answer against the
 * profile's declarations at once, plans again, and prints the command that gives the same plan
 * without questions.
 */
function plan(args: readonly string[], answers: string) {
  const r = spawnSync(process.execPath, [cliPath, 'plan', ...args], {
    cwd: repoRoot,
    input: answers,
    encoding: 'utf8',
    // Under npx (npm_command=exec) hints say `npx uplift`: the same words whoever runs the tests.
    env: { ...process.env, NO_COLOR: '1', npm_command: 'exec' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const st = ['--profile', 'securetransport', '--from', '5.4 GA', '--to', '5.5 GA'];
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('uplift plan --ask', () => {
  it('is what the next steps print when facts are missing, and runs as printed', () => {
    const r = plan(st, '');

    expect(flat(r.stdout)).toContain(
      'uplift plan --profile securetransport --from "5.4 GA" --to "5.5 GA" \\ --ask',
    );
    expect(r.stdout).not.toMatch(/=…|\bDIR\b/);
  });

  it('asks again on an answer outside the declared values, with the nearest one', () => {
    const r = plan([...st, '--ask', '--json'], 'oracel\nlinux-x86-64\n');

    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('oracel is not one of aix-power-64, ap-x86-64, linux-x86-64');
    expect(JSON.parse(r.stdout).facts.platform).toBe('linux-x86-64');
  });

  it('takes the answers as facts: the database type changes what the plan says', () => {
    const skip = '\n'.repeat(6);
    const before = JSON.parse(plan([...st, '--json'], '').stdout);

    const after = plan([...st, '--ask'], `linux-x86-64\n${skip}oracel\noracle\n12.1\n`);

    expect(after.code, after.stderr).toBe(3);
    // "oracel" was refused at the prompt, with the declared value it meant.
    expect(flat(after.stderr)).toMatch(/oracel.*did you mean oracle/);
    expect(before.verdict).toBe('not-recommended');
    expect(flat(after.stdout)).toContain('Oracle 12.1 must be upgraded to 12.2 or later');
    expect(flat(after.stdout)).toContain(
      "The facts you gave, for the same plan without questions: npx uplift plan --profile securetransport --from '5.4 GA' --to '5.5 GA'",
    );
    expect(flat(after.stdout)).toMatch(/--fact \\? ?database\.type=oracle/);
    // The command printed gives the same plan, run as printed by a shell.
    const printed = after.stdout.split('without questions:\n')[1] as string;
    const again = spawnSync('bash', ['-c', printed.replace('npx uplift', `node ${cliPath}`)], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', npm_command: 'exec' },
    });
    expect(again.status, again.stderr).toBe(3);
    const hash = (s: string) => /plan (sha256:[0-9a-f]{64})/.exec(s)?.[1];
    expect(hash(after.stdout)).toMatch(/^sha256:/);
    expect(hash(again.stdout)).toBe(hash(after.stdout));
  });

  it('skips every question left when the input ends', () => {
    const r = plan([...st, '--ask', '--json'], 'linux-x86-64\n');

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).verdict).toBe('not-recommended');
  });
});
