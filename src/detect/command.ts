import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type { Command } from './schema.ts';

/** What a detection command printed, or why it gave nothing. */
export type CommandOutput =
  | { ok: true; stdout: string; stderr: string }
  | { ok: false; why: string };

/** `${install}` and `${node}` in an argv string. */
export function expandArgv(argv: readonly string[], install: string): string[] {
  const vars: Record<string, string> = { install, node: process.execPath };
  return argv.map((a) =>
    a.replace(/\$\{(install|node)\}/g, (_, name: string) => vars[name] as string),
  );
}

/**
 * Runs a profile's detection command: no shell, in the installation (or `cwd` inside it), stdin
 * closed, killed after its timeout, at most 1 MiB of output kept. A command that cannot start,
 * exits non-zero or times out gives no output, only the reason.
 */
export function runCommand(command: Command, install: string): Promise<CommandOutput> {
  const cwd = command.cwd === undefined ? install : join(install, command.cwd);
  const [program, ...args] = expandArgv(command.argv, install) as [string, ...string[]];
  // A relative program path names a file of the installation, not one on PATH.
  const file = program.includes('/') && !isAbsolute(program) ? join(cwd, program) : program;
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        cwd,
        timeout: command.timeoutSeconds * 1000,
        killSignal: 'SIGKILL',
        maxBuffer: 1 << 20,
        encoding: 'utf8',
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: true, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        const shown = command.argv.join(' ');
        const why = e.killed
          ? `${shown} did not finish within ${command.timeoutSeconds} s`
          : typeof e.code === 'number'
            ? `${shown} exited with code ${e.code}${stderr.trim() ? `: ${firstLine(stderr)}` : ''}`
            : `${shown} could not run (${e.code ?? e.message})`;
        resolve({ ok: false, why });
      },
    );
    child.stdin?.end();
  });
}

/**
 * The named group `group` of the first line of stdout, then of stderr, that the pattern matches
 * (`java -version` writes to stderr). Without a pattern, the first line of stdout that is not blank.
 */
export function matchOutput(
  out: { stdout: string; stderr: string },
  pattern: string | undefined,
  group: string,
): string | undefined {
  if (pattern === undefined) return firstLine(out.stdout) || undefined;
  return matchLines(out.stdout, pattern, group) ?? matchLines(out.stderr, pattern, group);
}

/** The named group of the first line the pattern matches, trimmed; undefined when none does. */
export function matchLines(text: string, pattern: string, group: string): string | undefined {
  const re = new RegExp(pattern);
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const v = re.exec(line)?.groups?.[group]?.trim();
    if (v) return v;
  }
  return undefined;
}

function firstLine(text: string): string {
  return (
    text
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}
