import { readFileSync } from 'node:fs';

/**
 * Whether a process is running. `kill -0` alone is not enough: where nothing reaps orphans (some
 * containers' init), an exited server stays a zombie that still answers to signal 0.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // Without /proc (not Linux) signal 0 is the best answer; on Linux the process just went away.
    return process.platform !== 'linux';
  }
}
