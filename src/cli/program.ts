import { Command, CommanderError } from '@commander-js/extra-typings';
import { ExitCode, ExitError, UpliftError } from '../errors/index.ts';
import { writeAtomically } from '../util/index.ts';
import { register as apply } from './commands/apply-command.ts';
import { register as backup } from './commands/backup-command.ts';
import { register as catalogValidate } from './commands/catalog-validate-command.ts';
import { register as check } from './commands/check-command.ts';
import { register as facts } from './commands/facts-command.ts';
import { register as fetch } from './commands/fetch-command.ts';
import { register as history } from './commands/history-command.ts';
import { register as keys } from './commands/keys-command.ts';
import { register as notes } from './commands/notes-command.ts';
import { register as pack } from './commands/pack-command.ts';
import { register as paths } from './commands/paths-command.ts';
import { register as plan } from './commands/plan-command.ts';
import { register as profiles } from './commands/profiles-command.ts';
import { register as releaseTree } from './commands/release-tree-command.ts';
import { register as repo } from './commands/repo-command.ts';
import { register as restore } from './commands/restore-command.ts';
import { register as resume } from './commands/resume-command.ts';
import { register as rollback } from './commands/rollback-command.ts';
import { register as sample } from './commands/sample-command.ts';
import { register as status } from './commands/status-command.ts';
import { register as vendorPackVerify } from './commands/vendor-pack-verify-command.ts';
import type { CommandContext, OutputOptions, Register } from './register.ts';
import type { CliIo, CommandResult } from './types.ts';
import { formatError, formatInternalError } from './ui/format-error.ts';

export const version = '0.1.0';

/**
 * Every command, in the order `uplift --help` lists them. Each registration sits beside its handler
 * (`commands/<verb>-command.ts` next to `commands/<verb>.ts`) and imports the handler only when
 * the command runs, so `uplift --help` and each command load only what they use.
 */
const commands: Register[] = [
  plan,
  paths,
  notes,
  catalogValidate,
  profiles,
  check,
  facts,
  sample,
  backup,
  restore,
  vendorPackVerify,
  repo,
  fetch,
  keys,
  pack,
  releaseTree,
  apply,
  resume,
  status,
  rollback,
  history,
];

/** Runs the CLI and returns the exit code; only `main.ts` turns it into the process's exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const wantsJson =
    argv.includes('--json') ||
    argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const program = new Command()
    .name('uplift')
    .description('Plans and carries out upgrades of server software installations.')
    .version(version)
    // Program options only before the command name, so a command may have its own --version.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  let result: { res: CommandResult; out: OutputOptions } | undefined;
  const ctx: CommandContext = {
    io,
    emit: (res, out) => {
      result = { res, out };
    },
  };
  for (const register of commands) register(program, ctx);

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    return report(err, io, wantsJson);
  }
  if (!result) return ExitCode.ok;
  const { res, out } = result;
  for (const w of res.warnings ?? []) io.stderr(`warning: ${w}\n`);
  const json = out.json || out.format === 'json';
  const body = json ? `${JSON.stringify(res.data, null, 2)}\n` : res.text;
  if (out.out) {
    await writeAtomically(out.out, json || out.format === 'markdown' ? body : stripAnsi(body));
    io.stderr(`wrote ${out.out}\n`);
  } else io.stdout(body);
  return res.exitCode;
}

function report(err: unknown, io: CliIo, json: boolean): number {
  if (err instanceof CommanderError) {
    // Commander has already printed help, the version, or its own usage message.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return ExitCode.ok;
    return ExitCode.badInput;
  }
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof UpliftError) {
    if (json) io.stdout(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    else io.stderr(formatError(err));
    return err.exitCode;
  }
  io.stderr(formatInternalError(err, version));
  return ExitCode.failed;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
