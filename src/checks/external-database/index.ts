import type { PlanPrerequisite } from '../../plan/index.ts';
import { formatValue } from '../../util/index.ts';
import { fail, listText, pass, plural, skip, thenCheckAgain, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'external-database';

/**
 * The catalog's `externalPrerequisites` for `system: database`, as the plan evaluated them for
 * the target (type, version, collation: whatever the catalog's rules name).
 */
async function run(ctx: CheckContext): Promise<CheckResult> {
  if (ctx.plan === undefined) return skip('there is no plan, so no target to check against');
  const prereqs = ctx.plan.externalPrerequisites.filter((p) => p.system === 'database');
  const db = ctx.facts.database;
  const which = db?.type === undefined ? 'the database' : describe(db);
  const details = {
    database: db,
    prerequisites: prereqs.map((p) => ({ id: p.id, status: p.status, evidence: p.evidence })),
  };
  const violated = prereqs.filter((p) => p.status === 'violated');
  if (violated.length > 0) {
    return fail(
      `${which}: ${violated.map((p) => `${p.title} (${evidence(p)})`).join('; ')}`,
      violated.map((p) => p.action).join(' '),
      details,
    );
  }
  const unknown = prereqs.filter((p) => p.status === 'unknown');
  if (unknown.length > 0) {
    const missing = [...new Set(unknown.flatMap((p) => p.missingFacts))].sort();
    // Which database it is decides which prerequisites apply: ask for that first.
    const which = missing.filter((m) => m === 'database.type' || m === 'database.external');
    if (which.length > 0) {
      return warn(
        `the database is unknown (${listText(which)}): cannot tell which of ${plural(unknown.length, 'database prerequisite')} apply`,
        thenCheckAgain(
          `give what the database is as ${listText(which.map((m) => `--fact ${m}=`))} (e.g. --fact database.type=oracle)`,
        ),
        { ...details, missingFacts: missing },
      );
    }
    return warn(
      `cannot tell whether ${listText(unknown.map((p) => `"${p.title}"`))} holds: ${listText(missing)} unknown`,
      thenCheckAgain(
        `give what the database server reports as ${listText(missing.map((m) => `--fact ${m}=`))}`,
      ),
      { ...details, missingFacts: missing },
    );
  }
  const satisfied = prereqs.filter((p) => p.status === 'satisfied');
  if (satisfied.length > 0) {
    return pass(`${which}: ${listText(satisfied.map((p) => p.title))} holds`, details);
  }
  const none =
    prereqs.length === 0 ? 'no database prerequisite' : 'none of the database prerequisites';
  return pass(`${which}: ${none} of ${ctx.plan.to} concerns it`, details);
}

function describe(db: NonNullable<CheckContext['facts']['database']>): string {
  const parts = [db.type, db.version, db.collation].filter((p) => p !== undefined);
  const kind = db.external === true ? 'external ' : db.external === false ? 'embedded ' : '';
  return `${kind}${parts.join(' ')} database`;
}

function evidence(p: PlanPrerequisite): string {
  const used = Object.entries(p.evidence).map(([k, v]) => `${k} = ${formatValue(v)}`);
  return used.length > 0 ? used.join(', ') : 'no evidence';
}

export const api: Check = { id, title: 'External database type, version and collation', run };
