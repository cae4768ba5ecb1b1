import { appendFileSync } from 'node:fs';
import type { Transfer } from './tracking.ts';

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `Mon Nov  6 20:52:33 2026`: ctime(3) in local time, as wu-ftpd writes it. */
export function formatCtime(d: Date): string {
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${time} ${d.getFullYear()}`;
}

/**
 * One line in the wu-ftpd xferlog format: current-time transfer-time remote-host file-size
 * filename transfer-type special-action direction access-mode username service auth-method
 * auth-user-id completion-status. Blanks in the file name become `_` so the fields stay
 * separable, as wu-ftpd does.
 */
export function formatXferlogLine(t: Transfer, remoteHost: string): string {
  const seconds = Math.max(1, Math.round((t.end - t.start) / 1000));
  const name = t.path.replace(/\s/g, '_');
  const direction = t.direction === 'in' ? 'i' : 'o';
  const completion = t.status === 'completed' ? 'c' : 'i';
  return `${formatCtime(new Date(t.end))} ${seconds} ${remoteHost} ${t.bytes} ${name} b _ ${direction} r ${t.account} http 0 * ${completion}`;
}

/** Appends whole lines with one write each, so concurrent transfers never interleave a line. */
export function appendXferlog(file: string, lines: readonly string[]): void {
  if (lines.length > 0) appendFileSync(file, `${lines.join('\n')}\n`);
}
