import { shellWord } from '../../errors/index.ts';
import type { Plan } from '../../plan/index.ts';
import type { ReportExtras } from '../../report/index.ts';
import { readSavedJson } from './saved-json.ts';

const statuses = ['pass', 'warn', 'fail', 'skip'] as const;

/**
 * The results of `uplift check --json` saved in `file`, for the report's check section: they
 * must be of the same upgrade (from, to) as the plan, or the board would read another plan's
 * checks. Bad input is UPLIFT_REPORT_CHECKS_INVALID naming the field, before anything is written.
 */
export async function readCheckResults(
  file: string,
  plan: Plan,
): Promise<NonNullable<ReportExtras['checks']>> {
  const again = `Save them again for this plan: uplift check --install DIR --to ${shellWord(plan.to)} --json > ${shellWord(file)}`;
  const { doc, bad } = await readSavedJson(
    file,
    'UPLIFT_REPORT_CHECKS_INVALID',
    'uplift check --json',
    again,
  );
  const report = doc as { from?: unknown; to?: unknown; results?: unknown };
  if (typeof report !== 'object' || report === null || !Array.isArray(report.results))
    throw bad('results', 'expected the list of check results uplift check --json prints');
  if (report.from !== plan.from || report.to !== plan.to)
    throw bad(
      'from, to',
      `the checks were run for ${String(report.from)} → ${String(report.to)}, the plan is ${plan.from} → ${plan.to}`,
    );
  return report.results.map((r: unknown, k) => {
    const x = (r ?? {}) as Record<string, unknown>;
    if (typeof x.id !== 'string') throw bad(`results[${k}].id`, 'expected the check id, a string');
    if (!statuses.includes(x.status as (typeof statuses)[number]))
      throw bad(
        `results[${k}].status`,
        `expected one of ${statuses.join(', ')}, got ${JSON.stringify(x.status)}`,
      );
    if (typeof x.message !== 'string')
      throw bad(`results[${k}].message`, 'expected what the check found, a string');
    return {
      id: x.id,
      result: {
        status: x.status as (typeof statuses)[number],
        message: x.message,
        ...(typeof x.remediation === 'string' ? { remediation: x.remediation } : {}),
      },
    };
  });
}
