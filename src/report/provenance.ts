import type { Plan } from '../plan/index.ts';

/** The word every view puts on a line that rests on illustrative data. */
export const illustrativeWord = 'illustrative';

type Part = 'target' | 'path' | 'estimate' | 'verdict';
const parts: Part[] = ['target', 'path', 'estimate', 'verdict'];

/** The banner: which parts of the plan rest on illustrative data, and on what; empty when none. */
export function illustrativeBanner(plan: Plan): string | undefined {
  const p = plan.provenance;
  if (!p) return undefined;
  const hit = parts.filter((x) => p[x].length > 0);
  if (hit.length === 0) return undefined;
  const entries = [...new Set(hit.flatMap((x) => p[x].map((r) => r.entry)))];
  const shown = entries.slice(0, 4).join(', ');
  const more = entries.length > 4 ? ` and ${entries.length - 4} more` : '';
  return `ILLUSTRATIVE: the ${hit.join(', ')} of this plan rest on data the vendor's sources do not state (${shown}${more}); lines marked "${illustrativeWord}" rest on it.`;
}

/** Marks the lines of the plan rests on, looked up once. */
export function provenanceMarks(plan: Plan) {
  const p = plan.provenance;
  const step = new Map((p?.steps ?? []).map((s) => [s.index, s]));
  const ids = (list: { id: string }[] | undefined) => new Set((list ?? []).map((x) => x.id));
  return {
    target: (p?.target.length ?? 0) > 0,
    estimate: (p?.estimate.length ?? 0) > 0,
    step: (i: number) => {
      const s = step.get(i);
      return s !== undefined && s.release.length + s.durations.length > 0;
    },
    pack: (i: number) => (step.get(i)?.pack.length ?? 0) > 0,
    incompatibility: ids(p?.incompatibilities),
    prerequisite: ids(p?.externalPrerequisites),
    task: ids(p?.tasks),
  };
}
