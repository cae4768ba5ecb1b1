import type { AuditEntry } from '../state/index.ts';

const columns = [
  'id',
  'at',
  'actor',
  'controller',
  'runId',
  'env',
  'deployment',
  'node',
  'action',
  'outcome',
  'detail',
] as const;

/**
 * The audit as CSV (RFC 4180, CRLF lines): every field quoted, and a field that a spreadsheet would
 * run as a formula (= + - @ first) prefixed with a quote, so an exported audit cannot run code.
 */
export function auditCsv(entries: AuditEntry[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return `"${safe.replaceAll('"', '""')}"`;
  };
  const lines = [
    columns.join(','),
    ...entries.map((e) => columns.map((k) => cell(e[k])).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
