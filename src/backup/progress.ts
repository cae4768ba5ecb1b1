import type { Progress, ProgressListener } from './types.ts';

const verbs: Record<Progress['phase'], string> = {
  backup: 'backing up',
  verify: 'verifying',
  restore: 'restoring',
};

function mib(n: number): string {
  return (n / 1_048_576).toFixed(1);
}

/** One progress line: files, MiB, percent, throughput and time left. */
export function formatProgress(p: Progress): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const rate = p.bytes / 1_048_576 / seconds;
  const parts = [
    `${verbs[p.phase]}`,
    `${p.files}/${p.totalFiles} files`,
    `${mib(p.bytes)}/${mib(p.totalBytes)} MiB`,
  ];
  if (p.totalBytes > 0) parts.push(`${Math.min(100, Math.floor((p.bytes / p.totalBytes) * 100))}%`);
  parts.push(`${rate.toFixed(1)} MiB/s`);
  if (!p.done && rate > 0 && p.totalBytes > p.bytes)
    parts.push(`${Math.ceil((p.totalBytes - p.bytes) / 1_048_576 / rate)} s left`);
  if (p.done) parts.push(`done in ${seconds.toFixed(1)} s`);
  return parts.join('  ');
}

/**
 * A listener that draws progress on a terminal (one line, redrawn) or, when the output is not a
 * terminal, prints a line every few seconds so logs stay short.
 */
export function progressPrinter(write: (s: string) => void, tty: boolean): ProgressListener {
  let last = 0;
  return (p) => {
    if (tty) {
      write(`\r\u001b[K${formatProgress(p)}${p.done ? '\n' : ''}`);
      return;
    }
    if (p.done || p.elapsedMs - last >= 5000) {
      last = p.elapsedMs;
      write(`${formatProgress(p)}\n`);
    }
  };
}
