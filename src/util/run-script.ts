import { spawn } from 'node:child_process';

export interface ScriptResult {
  /** Exit code; null when a signal ended it (the timeout's SIGKILL among them). */
  code: number | null;
  /** The first 8 KiB or so of stdout and stderr together, trimmed. */
  output: string;
}

export interface RunScriptOptions {
  cwd: string;
  /** SIGKILL after this long. */
  timeoutMs: number;
  /**
   * `exit`: resolve when the process exits, not when its output streams close: a control script
   * that leaves a server running in the background, still holding the inherited pipes, is done
   * when it exits. `close`: resolve once the output is read to the end (every line of an error).
   */
  until: 'exit' | 'close';
}

/**
 * Runs a product's script (control scripts of an installation, a pack's hooks and migrations)
 * with its output captured for messages. Rejects only when it cannot start.
 */
export function runScript(
  cmd: string,
  args: readonly string[],
  o: RunScriptOptions,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (b: Buffer) => {
      if (output.length < 8192) output += b.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on(o.until, (code: number | null) => {
      clearTimeout(timer);
      if (o.until === 'exit') {
        child.stdout.destroy();
        child.stderr.destroy();
      }
      resolve({ code, output: output.trim() });
    });
  });
}
