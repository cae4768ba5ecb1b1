import { join, resolve } from 'node:path';
import pc from 'picocolors';
import { type DetectedFacts, detectFacts } from '../../detect/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { declaredFacts, factWarnings } from '../../facts/index.ts';
import { formatBytes, formatValue } from '../../util/index.ts';
import { profileForInstall } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';

export interface FactsCommandOptions {
  install: string;
  profile?: string;
  vendorManifest?: string;
}

/** `uplift facts --install DIR`: what detection reads from an installation. */
export async function handler(opts: FactsCommandOptions): Promise<CommandResult> {
  const { profile, warnings } = await profileForInstall(opts.install, opts.profile);
  const facts = await detectFacts(profile, opts.install, { vendorManifest: opts.vendorManifest });
  // `plan` stops on these; here they are shown, so what detection read is seen whole.
  const declared = declaredFacts(profile.manifest);
  const outside = declared
    ? factWarnings(facts, { kind: 'detected', install: resolve(opts.install) }, declared)
    : [];
  // Absent when there is nothing to say, so the facts of a sound installation print as before.
  if (outside.length > 0) facts.detection.declarationWarnings = outside;
  const todo = `a plan stops on it: declare it in ${join(profile.dir, 'profile.yaml')} (docs/profiles.md, "Facts"), or correct it with --fact`;
  return {
    data: facts,
    text: renderFacts(facts, resolve(opts.install)),
    exitCode: ExitCode.ok,
    warnings: [...warnings, ...outside.map((w) => `${w}; ${todo}`)],
  };
}

/** Facts shown with their own section first, then every other fact grouped by its top-level name. */
const shownFirst = new Set([
  'product',
  'version',
  'platform',
  'owner',
  'runningAs',
  'services',
  'customizedFiles',
  'detection',
]);

function renderFacts(f: DetectedFacts, install: string): string {
  const out: string[] = [];
  out.push(
    `${pc.bold(`${f.product} ${f.version}`)}  ${install}  ${pc.dim(`(profile ${f.detection.profile})`)}`,
  );
  out.push(`  platform    ${f.platform.id} ${pc.dim(`(${f.platform.os}, ${f.platform.arch})`)}`);
  const o = f.owner;
  const who = (user: string | undefined, uid: number) => `${user ?? '?'} ${pc.dim(`(uid ${uid})`)}`;
  out.push(
    `  owner       ${who(o.user, o.uid)}, group ${o.group ?? '?'} ${pc.dim(`(gid ${o.gid})`)}${o.root ? pc.yellow('  root installation') : ''}`,
  );
  const mismatch = f.runningAs.uid !== o.uid;
  out.push(
    `  uplift as   ${who(f.runningAs.user, f.runningAs.uid)}${mismatch ? pc.yellow('  not the owner') : ''}`,
  );
  if (o.foreignFiles > 0)
    out.push(
      pc.yellow(
        `  ${o.foreignFiles} file(s) owned by another user, e.g. ${o.foreignSample?.join(', ')}`,
      ),
    );
  out.push('');

  out.push(pc.bold('Services'));
  if (f.services.length === 0) out.push(pc.dim('  none declared'));
  for (const s of f.services) {
    const state = s.running
      ? pc.green(`running (pid ${s.pid})`)
      : s.leftover
        ? pc.yellow(`leftover pid file${s.pid === null ? '' : ` (pid ${s.pid} not running)`}`)
        : 'stopped';
    out.push(
      `  ${s.name.padEnd(12)} ${state}  ${pc.dim(s.pidFile)}${s.note ? pc.dim(`  ${s.note}`) : ''}`,
    );
  }
  out.push('');

  const c = f.customizedFiles;
  if (c) {
    out.push(
      pc.bold(
        `Customized files: ${c.changed.length} changed, ${c.added.length} added, ${c.removed.length} removed`,
      ),
    );
    for (const [kind, files, colour] of [
      ['changed', c.changed, pc.yellow],
      ['added  ', c.added, pc.cyan],
      ['removed', c.removed, pc.red],
    ] as const) {
      for (const file of files) {
        const note = c.notes[file];
        out.push(`  ${colour(kind)}  ${file}${note ? pc.dim(`  ${note}`) : ''}`);
      }
    }
    out.push('');
  }

  const rest = Object.keys(f)
    .filter((k) => !shownFirst.has(k))
    .sort();
  for (const group of rest) {
    out.push(pc.bold(group));
    const lines = flatten(f[group]);
    if (lines.length === 0) out.push(`  ${formatValue(f[group])}`);
    // A loop, not Math.max(...keys): a settings file may have more keys than a call takes arguments.
    let width = 0;
    for (const [k] of lines) width = Math.max(width, Math.min(40, k.length));
    for (const [key, value] of lines) {
      out.push(`  ${shown(key).padEnd(width)}  ${formatFact(key, value)}`);
    }
    out.push('');
  }

  const illustrative = f.detection.illustrative ?? [];
  if (illustrative.length > 0) {
    out.push(pc.bold('Read through illustrative profile entries'));
    for (const m of illustrative)
      out.push(`  ${pc.yellow('[illustrative]')} ${m.fact}: ${pc.dim(m.reason)}`);
    out.push('');
  }

  if (f.detection.warnings.length > 0) {
    out.push(pc.bold('Not detected'));
    for (const w of f.detection.warnings) out.push(pc.yellow(`  ${w}`));
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** `[key, value]` rows of a fact group, nested mappings as dotted keys. */
function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return prefix === '' ? [] : [[prefix, value]];
  }
  return Object.entries(value).flatMap(([k, v]) => {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? flatten(v, key)
      : [[key, v] as [string, unknown]];
  });
}

function formatFact(key: string, value: unknown): string {
  if (typeof value === 'number' && /bytes$/i.test(key))
    return `${value} ${pc.dim(`(${formatBytes(value)})`)}`;
  if (Array.isArray(value)) return shown(value.map((v) => String(v)).join(', '));
  if (value === '') return pc.dim('(empty)');
  return shown(typeof value === 'string' ? value : formatValue(value));
}

/**
 * Text read from the installation, as the terminal gets it: control characters escaped (an ESC
 * in a settings file must not move the cursor or recolour the screen).
 */
function shown(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
