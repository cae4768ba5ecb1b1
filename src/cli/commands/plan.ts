import { ExitCode, shellWord } from '../../errors/index.ts';
import { estimatePlan, type LearnedEstimate, volumeFacts } from '../../estimate/index.ts';
import { declaredFacts } from '../../facts/index.ts';
import { getPlan } from '../../plan/index.ts';
import { type ReportExtras, renderPlanHtml, renderPlanMarkdown } from '../../report/index.ts';
import { writeAtomically } from '../../util/index.ts';
import { profileArg } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { aboutFact, answerLines, askFacts, type FactQuestion } from '../ui/ask-facts.ts';
import { missingOf, renderPlanText } from '../ui/render-plan.ts';
import { readCheckResults } from './plan-checks.ts';
import { readWindowResult } from './plan-windows.ts';

export interface PlanCommandOptions {
  profile?: string;
  install?: string;
  vendorManifest?: string;
  from?: string;
  to: string;
  channel?: string;
  facts?: string;
  fact: string[];
  allowUndeclared?: boolean;
  format: 'text' | 'json' | 'markdown' | 'html';
  /**
   * Also write the report to these files (for the change board), whatever the format: HTML for a
   * name ending in .html or .htm, Markdown otherwise.
   */
  report?: string[];
  /** Ask for each fact the plan is missing (standard input), then plan again. */
  ask?: boolean;
  /** `uplift check --json` saved in a file: its results go into the report's check section. */
  checks?: string;
  /** `uplift window --json` saved in a file: its windows and traffic go into the report. */
  windows?: string;
}

/** `uplift plan`: should I upgrade, and how? */
export async function handler(opts: PlanCommandOptions): Promise<CommandResult> {
  const { profile, warnings } = await profileArg(opts);
  const planWith = (factFlags: string[]) =>
    getPlan({
      allowUndeclared: opts.allowUndeclared,
      warnings,
      profile,
      install: opts.install,
      vendorManifest: opts.vendorManifest,
      from: opts.from,
      to: opts.to,
      ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
      factsFile: opts.facts,
      factFlags,
    });
  const flags = [...opts.fact];
  let result = await planWith(flags);
  const answered: string[] = [];
  if (opts.ask) {
    const answers = answerLines(process.stdin);
    const asked = new Set<string>();
    try {
      // An answer can make another fact matter (a database type, then its version): ask again.
      for (;;) {
        const questions = questionsFor(result).filter((q) => !asked.has(q.name));
        if (questions.length === 0) break;
        for (const q of questions) asked.add(q.name);
        const given = await askFacts(questions, declaredFacts(result.profile.manifest), {
          lines: answers.lines,
          output: process.stderr,
        });
        if (given.length === 0) break;
        answered.push(...given);
        flags.push(...given);
        result = await planWith(flags);
      }
    } finally {
      answers.close();
    }
  }
  const { plan } = result;
  // Learned from the installation's measured runs of these hops, when it has some; the plan itself
  // (and its JSON) keeps the catalog's figures.
  const learned = opts.install !== undefined ? await learnedFor(result, opts.install) : undefined;
  // The installation goes into the commands the report suggests (uplift window, check, rollback).
  const extras: ReportExtras = {
    ...(opts.install !== undefined ? { install: shellWord(opts.install) } : {}),
    ...(learned ? { learned } : {}),
    ...(opts.checks !== undefined ? { checks: await readCheckResults(opts.checks, plan) } : {}),
    ...(opts.windows !== undefined ? await readWindowResult(opts.windows, plan) : {}),
  };
  let text =
    opts.format === 'markdown'
      ? renderPlanMarkdown(plan, extras)
      : opts.format === 'html'
        ? await renderPlanHtml(plan, extras)
        : renderPlanText(plan, { install: opts.install, profile: opts.profile });
  if (learned && opts.install && opts.format === 'text')
    text += learnedLine(learned, opts.install, plan.to);
  if (answered.length > 0 && opts.format === 'text')
    text += `\nThe facts you gave, for the same plan without questions:\nuplift plan ${[
      ...(opts.install
        ? ['--install', shellWord(opts.install)]
        : ['--profile', shellWord(plan.profile)]),
      ...(opts.from ? ['--from', shellWord(opts.from)] : []),
      ...(opts.facts ? ['--facts', shellWord(opts.facts)] : []),
      '--to',
      shellWord(opts.to),
      ...(opts.channel ? ['--channel', shellWord(opts.channel)] : []),
      ...flags.flatMap((f) => ['--fact', shellWord(f)]),
    ].join(' ')}\n`;
  for (const file of opts.report ?? []) {
    await writeAtomically(
      file,
      /\.html?$/i.test(file)
        ? await renderPlanHtml(plan, extras)
        : renderPlanMarkdown(plan, extras),
    );
    if (opts.format === 'text') text += `report written to ${file}\n`;
  }
  return {
    data: plan,
    text,
    exitCode: plan.verdict === 'blocked' ? ExitCode.blocked : ExitCode.ok,
    warnings,
  };
}

/** The estimate learned from the installation's measured runs (docs/estimates.md), if it has any. */
async function learnedFor(
  { plan, profile, facts }: Awaited<ReturnType<typeof getPlan>>,
  install: string,
): Promise<LearnedEstimate | undefined> {
  const e = await estimatePlan(plan, profile.catalog, volumeFacts(profile.catalog, facts), {
    install,
  });
  return e.basis.kind === 'measured' ? e : undefined;
}

function learnedLine(e: LearnedEstimate, install: string, to: string): string {
  const s = (x: { p50: number; p90: number }) => `${x.p50} s (p90 ${x.p90} s)`;
  const runs = e.basis.kind === 'measured' ? e.basis.runs : 0;
  return `\nLearned from ${runs} measured run${runs === 1 ? '' : 's'} of these hops: downtime ${s(e.downtime)}, total ${s(e.total)}; details:\nuplift estimate --install ${shellWord(install)} --to ${shellWord(to)}\n`;
}

/** The facts a plan is missing, as questions: the platform (among the catalog's) and the rest. */
function questionsFor({ plan, profile }: Awaited<ReturnType<typeof getPlan>>): FactQuestion[] {
  const declared = declaredFacts(profile.manifest);
  const { facts, platformSteps } = missingOf(plan);
  const platforms = [
    ...new Set(
      profile.catalog.catalog.releases.flatMap((r) => (r.packs ?? []).map((p) => p.platform)),
    ),
  ].sort();
  return [
    ...(platformSteps.length > 0
      ? [
          {
            name: 'platform.id',
            about: aboutFact(declared, 'platform.id', platforms),
            values: platforms,
          },
        ]
      : []),
    ...facts.map((name) => ({ name, about: aboutFact(declared, name) })),
  ];
}
