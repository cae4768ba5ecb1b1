import { formatBytes, formatDuration } from '../util/index.ts';

export interface DownloadProgress {
  file: string;
  /** Bytes of the file held so far (kept from an earlier run plus received now). */
  bytes: number;
  total: number;
  resumedFrom: number;
  /** Bytes received in this run; the rate is computed from these. */
  transferred: number;
  elapsedMs: number;
  done: boolean;
}

/** `skiff-….upk [######------] 52% 12.3 MiB/23.6 MiB 8.1 MiB/s ETA 2 s` */
export function formatDownloadProgress(p: DownloadProgress, barWidth = 20): string {
  const fraction = p.total > 0 ? Math.min(1, p.bytes / p.total) : 1;
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const rate = p.transferred / seconds;
  const parts = [
    p.file,
    bar,
    `${Math.floor(fraction * 100)}%`,
    `${formatBytes(p.bytes)}/${formatBytes(p.total)}`,
    `${formatBytes(Math.round(rate))}/s`,
  ];
  if (p.done) parts.push(`done in ${formatDuration(seconds)}`);
  else if (rate > 0) parts.push(`ETA ${formatDuration((p.total - p.bytes) / rate)}`);
  if (p.resumedFrom > 0) parts.push(`(resumed at ${formatBytes(p.resumedFrom)})`);
  return parts.join(' ');
}

/**
 * Draws download progress on standard error: one line redrawn on a terminal, or a plain line
 * every few seconds (and at the end) when standard error is a log.
 */
export function downloadProgressPrinter(
  write: (s: string) => void,
  tty: boolean,
): (p: DownloadProgress) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (p) => {
    if (tty) {
      write(`\r\u001b[K${formatDownloadProgress(p)}${p.done ? '\n' : ''}`);
      return;
    }
    if (p.done || p.elapsedMs - last >= 5000) {
      last = p.elapsedMs;
      write(`${formatDownloadProgress(p)}\n`);
    }
  };
}
