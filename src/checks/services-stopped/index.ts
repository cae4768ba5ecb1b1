import { fail, listText, pass, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'services-stopped';

/**
 * Services may run while uplift stages packs; they must be stopped when the downtime starts, and
 * before the backup when the vendor wants the backup taken with everything stopped. Processes of
 * the installation that have no pid file are `leftover-pids`' business.
 */
async function run(ctx: CheckContext): Promise<CheckResult> {
  const services = ctx.facts.services;
  if (services === undefined) {
    return warn(
      'which services run is unknown: detection reported no services',
      'look for running services with the operating system tools before the downtime',
    );
  }
  const running = services.filter((s) => s.running);
  const details = { stage: ctx.stage, services };
  if (running.length === 0) {
    return pass(
      services.length === 0
        ? 'no service is running (no pid file found)'
        : `no service is running (${listText(services.map((s) => s.pidFile))} checked)`,
      details,
    );
  }
  const names = listText(running.map((s) => `${s.name} (pid ${s.pid})`));
  const stop = ctx.profile.stopCommand
    ? `run ${ctx.profile.stopCommand} in ${ctx.install}`
    : `stop the services of ${ctx.install}`;
  if (ctx.stage === 'downtime') {
    return fail(`${names} still running, and the downtime needs it stopped`, stop, details);
  }
  if (ctx.profile.backupNeedsStop) {
    return warn(
      `${names} running; ${ctx.profile.product} must be backed up with every service stopped`,
      `${stop} before the backup, at the start of the downtime`,
      details,
    );
  }
  return pass(
    `${names} running, which is fine until the downtime: uplift stops it then (check again with --for downtime before a manual upgrade)`,
    details,
  );
}

export const api: Check = { id, title: 'Services stopped when the next step needs it', run };
