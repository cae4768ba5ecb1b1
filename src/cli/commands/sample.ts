import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import type { CommandResult } from '../types.ts';

export interface SampleCommandOptions {
  dir?: string;
  version?: string;
  stop?: boolean;
}

/**
 * What this command uses of products/skiff (its `src/index.ts`). skiff compiles on its own, outside
 * this package's rootDir, so the type is restated here; a skiff test checks that they agree.
 */
export interface SkiffSampleApi {
  listReleases(): { version: string }[];
  ensureSampleInstallation(opts: { dir: string; version?: string }): Promise<{
    install: string;
    url: string;
    version: string;
    status: 'created' | 'started' | 'reused';
    accounts: { name: string; password: string }[];
  }>;
  stopSampleInstallation(opts: { dir: string }): Promise<{ install: string; stopped: boolean }>;
}

async function loadSkiff(): Promise<SkiffSampleApi> {
  // Sources when uplift runs from src/ (tsx, vitest), skiff's own build when it runs from dist/.
  const entry = import.meta.url.endsWith('.ts')
    ? '../../../products/skiff/src/index.ts'
    : '../../../products/skiff/dist/index.js';
  return (await import(/* @vite-ignore */ new URL(entry, import.meta.url).href)) as SkiffSampleApi;
}

function skiffErrorCode(err: unknown): string | undefined {
  return err instanceof Error && err.name === 'SkiffError'
    ? (err as Error & { code: string }).code
    : undefined;
}

const statusText = {
  created: 'created',
  started: 'reused (it was stopped; started it)',
  reused: 'reused (already running)',
} as const;

/** `uplift sample`: an older skiff installation with realistic data, running, to try uplift on. */
export async function handler(
  opts: SampleCommandOptions,
  cwd = process.cwd(),
): Promise<CommandResult> {
  const dir = resolve(cwd, opts.dir ?? '.uplift/sample');
  const skiff = await loadSkiff();

  if (opts.stop) {
    const r = await skiff.stopSampleInstallation({ dir });
    const text = r.stopped
      ? `stopped the sample skiff server of ${r.install}\n`
      : `no sample skiff server was running in ${r.install}\n`;
    return { data: r, text, exitCode: ExitCode.ok };
  }

  const releases = skiff.listReleases().map((r) => r.version);
  if (opts.version !== undefined && !releases.includes(opts.version)) {
    throw new UpliftError('UPLIFT_VERSION_INVALID', `skiff has no release "${opts.version}"`, {
      hint: `use one of: ${releases.join(', ')}`,
    });
  }
  const installed = await readFile(join(dir, 'install/version'), 'utf8').then(
    (v) => v.trim(),
    () => undefined,
  );
  if (opts.version !== undefined && installed !== undefined && installed !== opts.version) {
    throw new UpliftError(
      'UPLIFT_USAGE',
      `the sample installation in ${join(dir, 'install')} is skiff ${installed}, not ${opts.version}`,
      { hint: 'remove that folder to start over, or choose another one with --dir' },
    );
  }

  let s: Awaited<ReturnType<SkiffSampleApi['ensureSampleInstallation']>>;
  try {
    s = await skiff.ensureSampleInstallation({ dir, version: opts.version });
  } catch (err) {
    const code = skiffErrorCode(err);
    if (code === 'SKIFF_NOT_EMPTY') {
      throw new UpliftError('UPLIFT_USAGE', (err as Error).message, {
        hint: 'choose another folder with --dir',
      });
    }
    if (code === 'SKIFF_START_FAILED' || code === 'SKIFF_STOP_FAILED') {
      const message = (err as Error).message;
      return {
        data: { error: { code, message } },
        text: `${message}\n`,
        exitCode: ExitCode.failed,
      };
    }
    throw err;
  }
  const text = [
    `sample skiff ${s.version}: ${statusText[s.status]}`,
    `  installation  ${s.install}`,
    `  url           ${s.url}`,
    `  accounts      ${s.accounts.map((a) => a.name).join(', ')} (demo passwords: --json)`,
    `  stop it with  uplift sample --stop${opts.dir === undefined ? '' : ` --dir ${opts.dir}`}`,
    '',
  ].join('\n');
  return { data: s, text, exitCode: ExitCode.ok };
}
