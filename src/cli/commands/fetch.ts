import { ExitCode, UpliftError } from '../../errors/index.ts';
import { downloadProgressPrinter, type FetchResult, fetchPacks } from '../../fetch/index.ts';
import { formatBytes } from '../../util/index.ts';
import { profileArg } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import type { ProgressIo } from './backup.ts';
import { parseMaxExpand } from './pack.ts';

export interface FetchCommandOptions {
  install?: string;
  to?: string;
  /** The release channel `--to` is chosen in (`--channel`). */
  channel?: string;
  plan?: string;
  profile?: string;
  repo: string;
  root?: string;
  resetTrust?: boolean;
  out?: string;
  timeout: string;
  minRate?: string;
  retries: string;
  /** `--max-expand RATIO`: the pack expansion ratio allowed. */
  maxExpand?: string;
  /** true: always show progress; false: never; undefined: when standard error is a terminal. */
  progress?: boolean;
}

/** `30s`, `500ms`, `2m`, or plain seconds. */
export function parseTimeout(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0)
    throw new UpliftError('UPLIFT_USAGE', `--timeout ${JSON.stringify(value)} is not a duration`, {
      hint: 'Write seconds (30s), milliseconds (500ms) or minutes (2m).',
    });
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** `1024`, `1KiB`, `2 MiB`, `500B`: bytes per second. */
export function parseRate(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB)?(?:\/s)?$/.exec(value.trim());
  const n = m ? Number(m[1]) * (m[2] === 'MiB' ? 1 << 20 : m[2] === 'KiB' ? 1024 : 1) : 0;
  if (!m || !(n >= 1))
    throw new UpliftError('UPLIFT_USAGE', `--min-rate ${JSON.stringify(value)} is not a rate`, {
      hint: 'Write bytes per second: 1024, 1KiB, 2MiB (at least 1 byte/s).',
    });
  return Math.floor(n);
}

/** `uplift fetch`: download exactly the packs the plan needs, verified. */
export async function handler(o: FetchCommandOptions, io: ProgressIo): Promise<CommandResult> {
  if (o.plan === undefined && o.install === undefined)
    throw new UpliftError('UPLIFT_USAGE', 'pass --install DIR --to VERSION, or --plan FILE', {
      hint: 'Plan from an installation (its folder as --install, and --to) or give a saved plan (--plan and the file plan --format json wrote):\nuplift fetch --help',
    });
  const retries = Number(o.retries);
  if (!Number.isInteger(retries) || retries < 0)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--retries ${JSON.stringify(o.retries)} is not a whole number`,
      {
        hint: 'Example: --retries 5',
      },
    );
  const show = o.progress === true || (o.progress === undefined && io.stderrIsTty);
  const { profile, warnings } = await profileArg(o);
  const r = await fetchPacks({
    install: o.install,
    to: o.to,
    ...(o.channel !== undefined ? { channel: o.channel } : {}),
    profile,
    planFile: o.plan,
    repo: o.repo,
    root: o.root,
    resetTrust: o.resetTrust,
    out: o.out,
    timeoutMs: parseTimeout(o.timeout),
    minBytesPerSecond: parseRate(o.minRate ?? '1KiB'),
    retries,
    ...(o.maxExpand === undefined ? {} : { maxExpand: parseMaxExpand(o.maxExpand) }),
    onProgress: show ? downloadProgressPrinter(io.stderr, io.stderrIsTty) : undefined,
  });
  return { data: r, text: render(r), exitCode: ExitCode.ok, warnings };
}

function render(r: FetchResult): string {
  const index =
    r.index.status === 'unchanged'
      ? `index version ${r.index.version} (no update since the last fetch)`
      : `index version ${r.index.version}${r.index.previousVersion === undefined ? '' : ` (was ${r.index.previousVersion})`}`;
  const lines = [
    `Repository ${r.repository}: root version ${r.root.version}${r.root.rotations.length ? ` (rotated through ${r.root.rotations.join(', ')})` : ''}, ${index}`,
  ];
  for (const note of [...r.notes, ...r.recovered]) lines.push(`  note: ${note}`);
  if (r.packs.length === 0)
    lines.push(`Nothing to fetch: the plan from ${r.from} to ${r.to} needs no pack.`);
  else lines.push(`Packs for ${r.platform}, ${r.from} → ${r.to}, in ${r.out}:`);
  for (const p of r.packs) {
    const how =
      p.status === 'cached'
        ? 'already here'
        : p.status === 'resumed'
          ? `resumed at ${formatBytes(p.resumedFrom)}`
          : p.restarts > 0
            ? `downloaded (started over ${p.restarts}×)`
            : 'downloaded';
    lines.push(
      `  step ${p.step}  ${p.path.replace(/^packs\//, '')}  ${formatBytes(p.size)}  ${how}`,
    );
    lines.push(`          verified: ${p.checks.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
