import { DateTime } from 'luxon';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import { type AuditEntry, openStateStore } from '../../state/index.ts';
import type { CommandResult } from '../types.ts';

export interface AuditOptions {
  env?: string;
  run?: string;
  deployment?: string;
  since?: string;
  limit?: string;
  state?: string;
}

/** `uplift audit`: the store's audit log, oldest first, filtered. */
export async function handler(o: AuditOptions): Promise<CommandResult> {
  const limit = limitOf(o.limit);
  const since = sinceOf(o.since);
  // Reading the log creates no store: a SQLite file that does not exist has no entries.
  const store = await openStateStore({
    ...(o.state === undefined ? {} : { file: o.state }),
    readOnly: true,
  });
  try {
    const entries = await store.listAudit({
      ...(o.run === undefined ? {} : { runId: o.run }),
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.deployment === undefined ? {} : { deployment: o.deployment }),
      ...(since === undefined ? {} : { since }),
      ...(limit === undefined ? {} : { limit }),
    });
    const text =
      entries.length === 0
        ? `no audit entries in ${store.label}${filtersText(o)}\n`
        : `${entries.map(lineOf).join('\n')}\n`;
    return { data: { store: store.label, entries }, text, exitCode: ExitCode.ok };
  } finally {
    await store.close();
  }
}

function filtersText(o: AuditOptions): string {
  const f = [
    o.env && `env ${o.env}`,
    o.run && `run ${o.run}`,
    o.deployment && `deployment ${o.deployment}`,
    o.since && `since ${o.since}`,
  ].filter(Boolean);
  return f.length > 0 ? ` for ${f.join(', ')}` : '';
}

/** One entry as a line: when, where, what and its outcome, who, then the detail. */
function lineOf(e: AuditEntry): string {
  const where = [e.env, e.deployment, e.node].filter(Boolean).join('/');
  const d = e.detail ?? {};
  const detail = Object.entries(d)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${e.at ?? ''}  ${e.action} ${e.outcome}${where ? `  ${where}` : ''}  by ${e.actor}${
    e.runId ? `  run ${e.runId}` : ''
  }${detail ? `\n    ${detail}` : ''}`;
}

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--limit takes a whole number from 1 to ${Number.MAX_SAFE_INTEGER}; got "${text}"`,
      {
        hint: 'e.g. --limit 50',
        unchanged: true,
      },
    );
  return Number(text);
}

function sinceOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // luxon refuses a day the month does not have (2025-02-30), which Date.parse rolls over.
  const t = DateTime.fromISO(text, { zone: 'UTC' });
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || !t.isValid)
    throw new UpliftError('UPLIFT_USAGE', `--since takes an ISO 8601 time; got "${text}"`, {
      hint: 'e.g. --since 2025-01-31 or --since 2025-01-31T08:00:00Z',
      unchanged: true,
    });
  return t.toUTC().toISO() as string;
}
