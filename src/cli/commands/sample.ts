import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import { findProfiles, loadProfile, type Profile } from '../../profile/index.ts';
import { packageRoot, writeAtomically } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';

export interface SampleCommandOptions {
  profile?: string;
  dir?: string;
  version?: string;
  stop?: boolean;
  /** Stop the sample, then have the profile make it anew (UPLIFT_SAMPLE_RESET=1). */
  reset?: boolean;
  /** Also write a topology (uplift.yaml) whose one environment is the sample, unless it exists. */
  topology?: string;
}

/** What a profile's `sample.create` prints (src/profile/schema.ts); more fields pass through. */
interface SampleInstallation {
  install: string;
  url?: string;
  version: string;
  status: string;
  accounts?: { name: string }[];
  /** A repository of the packs the sample's upgrade needs, when the profile makes one. */
  repository?: string;
  /** Its root.json, for `uplift fetch --root`. */
  root?: string;
  /** The public key its packs are signed with, for `uplift apply --trust`. */
  trust?: string;
}

/** The profile whose sample to make: `--profile`, else the only one that declares a sample. */
async function sampleProfile(name: string | undefined): Promise<Profile> {
  if (name !== undefined) {
    const p = await loadProfile(name);
    if (!p.manifest.sample)
      throw new UpliftError('UPLIFT_USAGE', `the profile ${name} declares no sample`, {
        hint: 'Choose a profile with a sample: section (uplift profiles lists them).',
        unchanged: true,
      });
    return p;
  }
  const withSample: Profile[] = [];
  for (const f of await findProfiles()) {
    if (f.shadowedBy) continue;
    const p = await loadProfile(f.dir).catch(() => undefined);
    if (p?.manifest.sample) withSample.push(p);
  }
  if (withSample.length === 1) return withSample[0] as Profile;
  throw new UpliftError(
    'UPLIFT_USAGE',
    withSample.length === 0
      ? 'no profile declares a sample installation'
      : `several profiles declare a sample: ${withSample.map((p) => p.manifest.name).join(', ')}`,
    {
      hint:
        withSample.length === 0
          ? 'Add a sample: section to a profile (src/profile/schema.ts), or pass --profile.'
          : `Say which with --profile ${withSample[0]?.manifest.name}.`,
      unchanged: true,
    },
  );
}

/** Runs one of the profile's sample commands; its stdout is one JSON object. */
function runSampleCommand(
  argv: readonly string[],
  vars: Record<string, string>,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv.map((a) => a.replace(/\$\{(\w+)\}/g, (m, v: string) => vars[v] ?? m));
  return new Promise((done, reject) => {
    const child = spawn(cmd as string, args, {
      cwd: vars.profile,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 8192) stderr += b.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function parseOutput(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Codes a sample script may report as they are (bad input); anything else is a failed sample. */
const passedCodes = new Set(['UPLIFT_USAGE', 'UPLIFT_VERSION_INVALID']);

const statusText: Record<string, string> = {
  created: 'created',
  started: 'reused (it was stopped; started it)',
  reused: 'reused (already running)',
};

/**
 * `uplift sample`: a sample installation of an older version, running, to try uplift on. The
 * profile's `sample:` commands make and stop it; uplift knows no product.
 */
export async function handler(
  opts: SampleCommandOptions,
  cwd = process.cwd(),
): Promise<CommandResult> {
  const dir = resolve(cwd, opts.dir ?? '.uplift/sample');
  const profile = await sampleProfile(opts.profile);
  const sample = profile.manifest.sample as NonNullable<Profile['manifest']['sample']>;
  const name = profile.manifest.name;
  if (opts.stop && (opts.reset || opts.topology !== undefined))
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--stop and ${opts.reset ? '--reset' : '--topology'} exclude each other`,
      {
        hint: 'Give one: --reset stops the sample itself before it makes it again; --topology goes with making it.',
        unchanged: true,
      },
    );
  const command = opts.stop ? sample.stop : sample.create;
  if (!command)
    throw new UpliftError('UPLIFT_USAGE', `the profile ${name} says no way to stop its sample`, {
      hint: `Add sample.stop to ${profile.dir}/profile.yaml.`,
      unchanged: true,
    });
  const vars = { profile: profile.dir, node: process.execPath, dir, uplift: cliEntry() };
  const timeoutMs = (sample.timeoutSeconds ?? 600) * 1000;
  if (opts.reset && sample.stop)
    sampleResult(name, profile, await runSampleCommand(sample.stop.argv, vars, {}, timeoutMs));
  const out = sampleResult(
    name,
    profile,
    await runSampleCommand(
      command.argv,
      vars,
      {
        ...(opts.version === undefined ? {} : { UPLIFT_SAMPLE_VERSION: opts.version }),
        ...(opts.reset ? { UPLIFT_SAMPLE_RESET: '1' } : {}),
      },
      timeoutMs,
    ),
  );

  if (opts.stop) {
    const text = out.stopped
      ? `stopped the sample ${name} server of ${String(out.install)}\n`
      : `no sample ${name} server was running in ${String(out.install)}\n`;
    return { data: out, text, exitCode: ExitCode.ok };
  }
  const s = out as unknown as SampleInstallation;
  const lines = [
    `sample ${name} ${s.version}: ${statusText[s.status] ?? s.status}`,
    `  installation  ${s.install}`,
  ];
  if (s.url) lines.push(`  url           ${s.url}`);
  if (Array.isArray(s.accounts) && s.accounts.length > 0)
    lines.push(
      `  accounts      ${s.accounts.map((a) => a.name).join(', ')} (demo passwords: --json)`,
    );
  if (s.repository) lines.push(`  repository    ${s.repository}`);
  if (s.root) lines.push(`  root          ${s.root} (for fetch --root)`);
  if (s.trust) lines.push(`  pack key      ${s.trust} (for apply --trust)`);
  const flags = `${opts.profile === undefined ? '' : ` --profile ${opts.profile}`}${opts.dir === undefined ? '' : ` --dir ${opts.dir}`}`;
  if (opts.topology !== undefined) {
    const file = resolve(cwd, opts.topology);
    const kept = existsSync(file);
    if (!kept) await writeAtomically(file, sampleTopology(file, name, s));
    lines.push(`  topology      ${file}${kept ? ' (kept: it exists)' : ''}`);
    out.topology = file;
  }
  if (sample.stop) lines.push(`  stop it with  uplift sample --stop${flags}`);
  lines.push(`  start over    uplift sample --reset${flags}`);
  return { data: out, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}

/**
 * A topology whose one environment, `sample`, is the sample installation as a standalone
 * deployment of one local node, with the sample repository's packs and key when it made them: what
 * `uplift serve`, `fleet` and `rollout` need to show and upgrade it. Paths are relative to the
 * file's folder.
 */
function sampleTopology(file: string, profile: string, s: SampleInstallation): string {
  const rel = (p: string) => {
    const r = relative(dirname(file), p);
    return JSON.stringify(r.startsWith('..') || r.startsWith('/') ? p : `./${r}`);
  };
  const packs = s.repository ? join(s.repository, 'packs') : undefined;
  return [
    '# Written by uplift sample --topology: the sample installation as one environment (docs/topology.md).',
    'topology: 1',
    'environments:',
    '  - name: sample',
    '    deployments:',
    `      - name: ${JSON.stringify(profile)}`,
    '        type: standalone',
    `        profile: ${JSON.stringify(profile)}`,
    ...(packs && existsSync(packs) ? [`        packs: ${rel(packs)}`] : []),
    ...(s.trust ? [`        trust: ${rel(s.trust)}`] : []),
    '        nodes:',
    '          - name: sample',
    `            at: ${rel(s.install)}`,
    '',
  ].join('\n');
}

/**
 * This package's CLI script (package.json `bin`, the bundle), for sample scripts that run uplift
 * commands themselves: `${node} ${uplift} …` is this same uplift. Not `process.argv[1]`: uplift
 * may run inside another program (a test runner's worker), whose script is not uplift.
 */
function cliEntry(): string {
  const root = packageRoot();
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.uplift;
    if (bin && existsSync(join(root, bin))) return join(root, bin);
  } catch {
    // No readable package.json beside the code: fall back to the running script.
  }
  return process.argv[1] ? resolve(process.argv[1]) : '';
}

/** A sample command's JSON, or the error it reported (or its failure) as an UpliftError. */
function sampleResult(
  name: string,
  profile: Profile,
  r: { code: number | null; stdout: string; stderr: string },
): Record<string, unknown> {
  const out = parseOutput(r.stdout);
  const error = out?.error as { code?: string; message?: string; hint?: string } | undefined;
  if (r.code !== 0 || !out || error) {
    const message =
      error?.message ??
      (r.stderr.trim() || `the sample command of ${name} ended with ${r.code ?? 'a signal'}`);
    if (r.code === 2 && error?.code && passedCodes.has(error.code))
      throw new UpliftError(error.code as 'UPLIFT_USAGE', message, {
        ...(error.hint ? { hint: error.hint } : {}),
        unchanged: true,
      });
    throw new UpliftError('UPLIFT_SAMPLE_FAILED', message, {
      hint:
        error?.hint ??
        `Run it again; if it fails again, see ${profile.dir}/profile.yaml (sample:) and the output above.`,
      ...(r.code === 2 ? { exitCode: ExitCode.badInput, unchanged: true } : {}),
    });
  }

  return out;
}
