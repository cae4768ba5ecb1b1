import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift service status|stop|start`; the handler is imported when one runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  const service = program
    .command('service')
    .description(
      "Read, stop or start an installation's services through its profile's lifecycle, as apply does (the node-level steps of a rollout).",
    );
  service
    .command('status')
    .description(
      'Show the installed version, the services’ processes, whether the readiness probes pass now (one quick round), and whether a run is interrupted or holds the lock.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 read (running or stopped, ready or not), 2 bad input, 5 an interrupted run waits for uplift resume.\nExample: uplift service status --install /opt/product --json',
    )
    .action(async (o) => {
      const { status } = await import('./service.ts');
      emit(await status(o), { json: o.json });
    });
  service
    .command('stop')
    .description(
      "Stop the services gracefully as apply does (the profile's stop, every process waited for); nothing to do when none runs.",
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nNever SIGKILLs: a service still running after its profile's stopTimeoutSeconds fails the command (UPLIFT_SERVICE_STOP_FAILED).\nExit codes: 0 stopped (or already stopped), 1 failed, 2 bad input, 3 wrong user, 4 another run holds the lock, 5 an interrupted run waits for uplift resume.\nExample: uplift service stop --install /opt/product --json",
    )
    .action(async (o) => {
      const { stop } = await import('./service.ts');
      emit(await stop(o, { stderr: io.stderr }), { json: o.json });
    });
  service
    .command('start')
    .description(
      "Start the services as apply does and wait until the profile's readiness probes pass for its stability window; nothing to do when they already run and are ready.",
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 started and ready (or already), 1 failed (UPLIFT_SERVICE_NOT_READY names the probe and what it got; the services are left running), 2 bad input, 3 wrong user, 4 another run holds the lock, 5 an interrupted run waits for uplift resume.\nExample: uplift service start --install /opt/product --json',
    )
    .action(async (o) => {
      const { start } = await import('./service.ts');
      emit(await start(o, { stderr: io.stderr }), { json: o.json });
    });
}
