import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { ExitCode, ExitError, UpliftError } from '../errors/index.ts';
import { writeAtomically } from '../util/index.ts';
import type { CommandContext, OutputOptions, Register } from './register.ts';
import type { CliIo, CommandResult } from './types.ts';
import { forPeople as wrapForPeople } from './ui/for-people.ts';
import { formatError, formatInternalError } from './ui/format-error.ts';

export const version = '0.1.0';

/**
 * Every command, in the order `uplift --help` lists them: the names it registers, and its
 * registration (`commands/<verb>-command.ts`, beside the handler `commands/<verb>.ts`, which it
 * imports only when the command runs). A run loads only its own command's registration; help and
 * unknown names load them all, one after the other (Node opens static imports all at once, and a
 * process limited to a few file descriptors must still start).
 */
const commands: [names: string[], load: () => Promise<{ register: Register }>][] = [
  [['plan'], () => import('./commands/plan-command.ts')],
  [['paths'], () => import('./commands/paths-command.ts')],
  [['notes'], () => import('./commands/notes-command.ts')],
  [['catalog'], () => import('./commands/catalog-validate-command.ts')],
  [['profiles', 'profile'], () => import('./commands/profiles-command.ts')],
  [['check'], () => import('./commands/check-command.ts')],
  [['facts'], () => import('./commands/facts-command.ts')],
  [['sample'], () => import('./commands/sample-command.ts')],
  [['backup'], () => import('./commands/backup-command.ts')],
  [['restore'], () => import('./commands/restore-command.ts')],
  [['vendor-pack'], () => import('./commands/vendor-pack-verify-command.ts')],
  [['repo'], () => import('./commands/repo-command.ts')],
  [['fetch'], () => import('./commands/fetch-command.ts')],
  [['keys'], () => import('./commands/keys-command.ts')],
  [['pack'], () => import('./commands/pack-command.ts')],
  [['release-tree'], () => import('./commands/release-tree-command.ts')],
  [['apply'], () => import('./commands/apply-command.ts')],
  [['resume'], () => import('./commands/resume-command.ts')],
  [['status'], () => import('./commands/status-command.ts')],
  [['service'], () => import('./commands/service-command.ts')],
  [['rollback'], () => import('./commands/rollback-command.ts')],
  [['history'], () => import('./commands/history-command.ts')],
  [['estimate'], () => import('./commands/estimate-command.ts')],
  [['topology'], () => import('./commands/topology-command.ts')],
  [['rollout'], () => import('./commands/rollout-command.ts')],
  [['fleet'], () => import('./commands/fleet-command.ts')],
  [['audit'], () => import('./commands/audit-command.ts')],
  [['window'], () => import('./commands/window-command.ts')],
  [['serve'], () => import('./commands/serve-command.ts')],
];

/**
 * The registrations a command line needs: none for a bare `--version` (commander answers it from
 * the program, and it is the start a script times), its command's, or every one for help and
 * suggestions.
 */
function registrationsFor(argv: readonly string[]) {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return [];
  const name = argv.find((a) => !a.startsWith('-'));
  const own = commands.filter(([names]) => name !== undefined && names.includes(name));
  return own.length > 0 ? own : commands;
}

/** Every command name, as hints write them after `uplift`. */
const commandNames = commands.flatMap(([names]) => names);

/** How text for people is laid out: the width it wraps to, and how hints name uplift. */
interface View {
  width: number;
  invokedAs: string;
}

/**
 * Text for people (a command's text, a warning, an error), wrapped to the view's width with its
 * uplift commands written the way this invocation runs them: the one route all of them take.
 */
function forPeople(text: string, view: View): string {
  return wrapForPeople(text, view.width, view.invokedAs, commandNames);
}

/**
 * `--width N` is taken from anywhere on the line (commander would take a program option only
 * before the command name): it lays out every command's text the same way.
 */
function takeWidth(argv: readonly string[]): { argv: string[]; width?: string } {
  const rest: string[] = [];
  let width: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--width') width = argv[++i] ?? '';
    else if (a.startsWith('--width=')) width = a.slice('--width='.length);
    else rest.push(a);
  }
  return { argv: rest, width };
}

/** Runs the CLI and returns the exit code; only `main.ts` turns it into the process's exit code. */
export async function run(givenArgv: readonly string[], io: CliIo): Promise<number> {
  const { argv, width } = takeWidth(givenArgv);
  const view: View = {
    width: io.isTty && io.columns !== undefined && io.columns > 0 ? io.columns : 80,
    invokedAs: io.invokedAs ?? 'uplift',
  };
  const wantsJson =
    argv.includes('--json') ||
    argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const program = new Command()
    .name('uplift')
    .description('Plans and carries out upgrades of server software installations.')
    .version(version)
    // Program options only before the command name, so a command may have its own --version.
    .enablePositionalOptions()
    .option(
      '--width <columns>',
      "wrap text to this many columns, anywhere on the line (default: the terminal's width; 80 when not a terminal)",
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Commander's own usage errors (an unknown option, a missing argument) are reported as
      // UPLIFT_USAGE, in JSON with --json, like every other refusal: see usageError.
      outputError: (text) => {
        parseError = text;
      },
    });
  let parseError: string | undefined;

  let result: { res: CommandResult; out: OutputOptions } | undefined;
  const ctx: CommandContext = {
    io,
    emit: (res, out) => {
      result = { res, out };
    },
  };
  if (width !== undefined) {
    const columns = Number(width);
    if (!/^\d+$/.test(width) || columns < 20)
      return report(
        new UpliftError(
          'UPLIFT_USAGE',
          `--width takes a number of columns, 20 or more; got "${width}"`,
          {
            hint: 'e.g. --width 100',
          },
        ),
        io,
        wantsJson,
        view,
      );
    view.width = columns;
  }
  for (const [, load] of registrationsFor(argv)) (await load()).register(program, ctx);
  program.hook('preAction', (_program, command) => refuseEmptyValues(command));

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    const usage = parseError !== undefined ? usageError(parseError, program, argv, view) : err;
    return report(usage, io, wantsJson, view, argv);
  }
  if (!result) return ExitCode.ok;
  const { res, out } = result;
  for (const w of res.warnings ?? [])
    io.stderr(forPeople(`warning: ${w.replaceAll('\n', '\n  ')}\n`, view));
  const json = out.json || out.format === 'json';
  const body = json
    ? `${out.jsonLines ? JSON.stringify(res.data) : JSON.stringify(res.data, null, 2)}\n`
    : out.format === 'markdown' || out.format === 'html'
      ? res.text
      : forPeople(res.text, view);
  if (out.out) {
    try {
      await writeAtomically(
        out.out,
        json || out.format === 'markdown' || out.format === 'html' ? body : stripAnsi(body),
      );
    } catch (err) {
      return report(err, io, wantsJson, view, argv);
    }
    io.stderr(`wrote ${out.out}\n`);
  } else io.stdout(body);
  return res.exitCode;
}

/**
 * An empty argument or option value (`--install ''`, an unset shell variable) is refused before
 * any command runs: a path of '' resolves to the working folder, which `restore --install ''`
 * would replace and `backup --install ''` would back up.
 */
function refuseEmptyValues(command: CommandUnknownOpts): void {
  const where = (name: string) =>
    new UpliftError('UPLIFT_USAGE', `${name} is empty`, {
      hint: `Give ${name} a value; an empty one (an unset shell variable?) is never taken as the current folder.`,
      unchanged: true,
    });
  command.registeredArguments.forEach((a, i) => {
    const v: unknown = command.processedArgs[i];
    if (v === '' || (Array.isArray(v) && v.includes(''))) throw where(`the argument <${a.name()}>`);
  });
  const values = command.opts() as Record<string, unknown>;
  for (const o of command.options) {
    const v = values[o.attributeName()];
    if (v === '' || (Array.isArray(v) && v.includes(''))) throw where(o.long ?? o.flags);
  }
}

/**
 * A usage error commander found while parsing (`error: unknown option '--bogus'`, with its
 * "Did you mean" line), as UPLIFT_USAGE whose hint names the help of the command it was in.
 */
function usageError(text: string, program: Command, argv: readonly string[], view: View) {
  const words: string[] = [];
  let at: CommandUnknownOpts = program;
  for (const a of argv) {
    const sub = at.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (a.startsWith('-') || sub === undefined) break;
    words.push(a);
    at = sub;
  }
  const [first = '', ...more] = text
    .replace(/^error: /, '')
    .trim()
    .split('\n');
  return new UpliftError('UPLIFT_USAGE', first, {
    hint: [...more, `${[view.invokedAs, ...words].join(' ')} --help lists what it takes.`].join(
      ' ',
    ),
    unchanged: true,
  });
}

/** Commands whose `--json` is a stream of one object per line: their error is one line too. */
const streamingJson = ['rollout'];

function report(err: unknown, io: CliIo, json: boolean, view: View, argv: string[] = []): number {
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
    const doc = { ...err.result, error: err.toJSON() };
    const oneLine = streamingJson.includes(argv.find((a) => !a.startsWith('-')) ?? '');
    if (json) io.stdout(`${oneLine ? JSON.stringify(doc) : JSON.stringify(doc, null, 2)}\n`);
    else io.stderr(forPeople(formatError(err), view));
    return err.exitCode;
  }
  io.stderr(formatInternalError(err, version));
  return ExitCode.failed;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
