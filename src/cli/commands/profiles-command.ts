import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift profiles` and `uplift profile init`; handlers are imported when they run. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('profiles')
    .description(
      'List the product profiles: those on UPLIFT_PROFILE_PATH, then the built-in ones, with where each is from.',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nUPLIFT_PROFILE_PATH is colon-separated; each entry is a profile folder or a folder of profile folders. A name found earlier on the path shadows the same name later.\nExample: UPLIFT_PROFILE_PATH=/etc/uplift/profiles uplift profiles',
    )
    .action(async (o) => {
      const { handler } = await import('./profiles.ts');
      emit(await handler(), { json: o.json });
    });

  const profile = program.command('profile').description('Write and describe product profiles.');
  profile
    .command('init')
    .description(
      'Write a first profile for an installation: profile.yaml with detection guessed from its files, lifecycle and paths skeletons, and a catalog with its version.',
    )
    .argument('<dir>', 'profile folder to write (made if missing)')
    .requiredOption('--install <path>', 'an installation of the product, read for the guesses')
    .option('--name <name>', 'profile and product name (default: the folder name)')
    .option('--title <title>', 'a title for the product (default: the name)')
    .option('--force', 'overwrite an existing profile.yaml and catalog.yaml')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads only the installation. Every guess is commented in the files; check each one, then try it with uplift facts --profile DIR --install PATH.\nExit codes: 0 written, 2 bad input or the folder already holds a profile (use --force).\nExample: uplift profile init ./profiles/product --install /opt/product',
    )
    .action(async (dir, o) => {
      const { init } = await import('./profiles.ts');
      emit(await init(dir, o), { json: o.json });
    });

  profile
    .command('schema')
    .description(
      "Print the JSON Schema of a profile's facts files, from the facts the profile declares (for editors and CI).",
    )
    .argument('<profile>', 'a profile name (UPLIFT_PROFILE_PATH, then the built-in ones) or folder')
    .option(
      '--facts',
      'the schema of a facts file (--facts FILE); the only one so far, and the default',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 printed, 2 unknown profile or one that declares no facts.\nExample: uplift profile schema ./profiles/product --facts > facts.schema.json',
    )
    .action(async (name) => {
      const { factsSchema } = await import('./profiles.ts');
      emit(await factsSchema(name), { json: true });
    });
}
