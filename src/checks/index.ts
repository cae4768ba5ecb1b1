import { UpliftError } from '../errors/index.ts';
import { checks } from './api.ts';
import type { Check, CheckContext, CheckResult, CheckStatus } from './types.ts';

export { buildCheckContext, type CheckContextOptions } from './context.ts';
export { realHost } from './host.ts';
export type {
  Check,
  CheckContext,
  CheckResult,
  CheckStage,
  CheckStatus,
  Host,
  InstallFacts,
  ProcessInfo,
} from './types.ts';

/** The check with this id; throws UPLIFT_CHECK_UNKNOWN, listing the known ids, for any other. */
export function getCheck(id: string): Check {
  const check = checks.get(id);
  if (check !== undefined) return check;
  throw new UpliftError('UPLIFT_CHECK_UNKNOWN', `there is no check named ${JSON.stringify(id)}`, {
    hint: `use one of ${listChecks().join(', ')}`,
  });
}

/** Ids of the built-in checks, in registry order. */
export function listChecks(): string[] {
  return [...checks.keys()];
}

/** One check's outcome with the catalog tasks it covers: a line of `uplift check`. */
export interface CheckReportEntry extends CheckResult {
  id: string;
  title: string;
  /** Ids of the plan's tasks whose `check:` names this check. */
  tasks: string[];
}

export interface CheckReport {
  install: string;
  profile: string;
  from: string;
  to: string;
  stage: CheckContext['stage'];
  results: CheckReportEntry[];
  summary: Record<CheckStatus, number>;
}

/**
 * Runs the checks that the plan's tasks name, in task order (or exactly `only`, in the order
 * given), concurrently: checks only read. A task naming a check this uplift does not have is
 * reported as a `warn`, so the operator knows to do it by hand.
 */
export async function runChecks(
  ctx: CheckContext,
  opts: { only?: readonly string[] } = {},
): Promise<CheckReport> {
  const tasks = ctx.plan?.tasks ?? [];
  const tasksOf = (id: string) => tasks.filter((t) => t.check === id).map((t) => t.id);
  const ids =
    opts.only !== undefined
      ? [...new Set(opts.only)]
      : [...new Set(tasks.flatMap((t) => (t.check === undefined ? [] : [t.check])))];
  if (opts.only !== undefined) for (const id of ids) getCheck(id);
  const results = await Promise.all(
    ids.map(async (id): Promise<CheckReportEntry> => {
      const check = checks.get(id);
      if (check === undefined) {
        const task = tasks.find((t) => t.check === id);
        return {
          id,
          title: task?.title ?? id,
          status: 'warn',
          message: `the catalog names a check "${id}" that this uplift does not have`,
          remediation: `do the task by hand: ${task?.title ?? id}`,
          tasks: tasksOf(id),
        };
      }
      const result = await check.run(ctx);
      return { id, title: check.title, ...result, tasks: tasksOf(id) };
    }),
  );
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) summary[r.status]++;
  return {
    install: ctx.install,
    profile: ctx.profile.name,
    from: ctx.plan?.from ?? ctx.facts.version ?? '',
    to: ctx.plan?.to ?? '',
    stage: ctx.stage,
    results,
    summary,
  };
}
