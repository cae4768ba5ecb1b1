import type { Plan, Reason } from '../plan/index.ts';

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
  // Illustrative facts first: they name what of the installation the plan could not read as fact.
  const all = [...new Set(hit.flatMap((x) => p[x].map((r) => r.entry)))];
  const entries = [
    ...all.filter((e) => e.startsWith('fact ')),
    ...all.filter((e) => !e.startsWith('fact ')),
  ];
  const shown = entries.slice(0, 4).join(', ');
  const more = entries.length > 4 ? ` and ${entries.length - 4} more` : '';
  return `ILLUSTRATIVE: the ${hit.join(', ')} of this plan ${hit.length === 1 ? 'rests' : 'rest'} on data the vendor's sources do not state (${shown}${more}); lines marked "${illustrativeWord}" rest on it.`;
}

/** Marks the lines of the plan rests on, looked up once. */
export function provenanceMarks(plan: Plan) {
  const p = plan.provenance;
  const step = new Map((p?.steps ?? []).map((s) => [s.index, s]));
  const ids = (list: { id: string }[] | undefined) => new Set((list ?? []).map((x) => x.id));
  const incompatibility = ids(p?.incompatibilities);
  const prerequisite = ids(p?.externalPrerequisites);
  // A reason for the verdict quotes the title of the item it comes from (assemble-plan.ts).
  const quoted = [
    ...plan.incompatibilities.filter((i) => incompatibility.has(i.id)).map((i) => i.title),
    ...plan.externalPrerequisites.filter((x) => prerequisite.has(x.id)).map((x) => x.title),
  ];
  const manualTitles = plan.steps
    .filter((x) => x.kind === 'manual' && (step.get(x.index)?.rule?.length ?? 0) > 0)
    .map((x) => `manual step: ${x.title}`);
  return {
    target: (p?.target.length ?? 0) > 0,
    estimate: (p?.estimate.length ?? 0) > 0,
    step: (i: number) => {
      const s = step.get(i);
      return s !== undefined && s.release.length + s.durations.length + (s.rule?.length ?? 0) > 0;
    },
    pack: (i: number) => (step.get(i)?.pack.length ?? 0) > 0,
    incompatibility,
    prerequisite,
    task: ids(p?.tasks),
    /** A reason for the verdict that rests on an illustrative item or fact. */
    reason: (r: Reason) =>
      quoted.some((t) => r.text.startsWith(`${t}: `) || r.text.includes(`"${t}"`)) ||
      manualTitles.includes(r.text),
  };
}
