import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { unwritablePathError } from '../errors/index.ts';
import { refuseNonRegularTarget } from '../util/index.ts';
import type { CliIo, CommandResult } from './types.ts';

// The wiring every `commands/*-command.ts` shares. A registration declares one command (or one
// command family) with its options and help, and lazy-imports its handler in the action, so
// `uplift --help` and `uplift plan` load only commander and the handler they run.

/** How `program.ts` renders what a handler returned. */
export interface OutputOptions {
  json?: boolean;
  /** With json: the result on one line (the last line of a command that streams events). */
  jsonLines?: boolean;
  format?: 'text' | 'json' | 'markdown' | 'html';
  out?: string;
}

/** What a registration gets besides the program: where to write, and where its result goes. */
export interface CommandContext {
  io: CliIo;
  /** Hands the handler's result to `program.ts`, which prints it (handlers never print). */
  emit: (res: CommandResult, out: OutputOptions) => void;
}

/** Declares commands on the program; one per `commands/<verb>-command.ts`. */
export type Register = (program: Command, ctx: CommandContext) => void;

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `--facts <file>` and the repeatable `--fact <path=value>` of the commands that read an
 * installation's facts before changing it (apply, check): what uplift cannot read itself.
 */
export function factOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  command: Command<A, O, G>,
) {
  return command
    .option('--facts <file>', 'facts uplift cannot read itself (a database version), YAML or JSON')
    .option(
      '--fact <path=value>',
      'set one fact, e.g. --fact database.version=14 (repeatable)',
      collect,
      [] as string[],
    )
    .option('--allow-undeclared', allowUndeclaredHelp);
}

/** `--allow-undeclared`: facts the profile does not declare are warnings, not errors. */
export const allowUndeclaredHelp =
  'take facts the profile does not declare, and values it does not list, with a warning (for experiments)';

/** Progress goes to standard error, shown by default only on a terminal. */
export function progressIo(io: CliIo) {
  return { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true };
}

/** The `--profile` option's help: a name on the search path or a profile folder. */
export const profileHelp = {
  install:
    'product profile: a name (UPLIFT_PROFILE_PATH, then the built-in ones) or a profile folder (default: the one recorded for the installation, else recognised from it)',
  run: 'product profile, a name or a folder (default: the one recorded for the installation by uplift apply)',
  plain:
    'product profile: a name (UPLIFT_PROFILE_PATH, then the built-in ones) or a profile folder',
} as const;

/**
 * Readies the file `--out` names before the command runs, so a path that cannot hold it is refused
 * with nothing done: its missing folders are made, and a folder at the path or a file among its
 * parents is UPLIFT_PATH_UNWRITABLE.
 */
export async function prepareOut(file: string, option = '--out'): Promise<void> {
  const path = resolve(file);
  try {
    await mkdir(dirname(path), { recursive: true });
    if ((await stat(path).catch(() => undefined))?.isDirectory())
      throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
    await refuseNonRegularTarget(path);
  } catch (err) {
    throw unwritablePathError(err, file, option) ?? err;
  }
}
