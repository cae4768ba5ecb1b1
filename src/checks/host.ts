import { readdir, readFile, statfs } from 'node:fs/promises';
import { isAlive } from '../util/index.ts';
import type { Host, ProcessInfo } from './types.ts';

/** The host uplift runs on, read from the kernel: /proc and statfs. */
export function realHost(): Host {
  return {
    uid: process.getuid?.(),
    pid: process.pid,
    bootId: async () =>
      (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined))?.trim(),
    freeBytes: async (path) => {
      const s = await statfs(path);
      // bavail, not bfree: blocks reserved for root are not there for a non-root upgrade.
      return s.bavail * s.bsize;
    },
    processes: listProcesses,
    isAlive,
  };
}

async function listProcesses(): Promise<ProcessInfo[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const out: ProcessInfo[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        // A process may exit between readdir and the reads; it is simply not listed.
        const [cmdline, stat] = await Promise.all([
          readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => undefined),
          readFile(`/proc/${e}/stat`, 'utf8').catch(() => undefined),
        ]);
        if (cmdline === undefined || stat === undefined || cmdline === '') return;
        // The command name in parentheses may itself hold blanks and parentheses; ppid follows the last ")".
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        out.push({ pid: Number(e), ppid, argv: cmdline.replace(/\0$/, '').split('\0') });
      }),
  );
  return out.sort((a, b) => a.pid - b.pid);
}
