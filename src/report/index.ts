import type { Plan } from '../plan/index.ts';
import { type ReportExtras, reportModel } from './model.ts';

// The React components (components/index.ts) are not re-exported here: this module is on the
// start-up path of every `uplift plan`, and React, dagre and d3 load only when a report is drawn.
export { renderPlanMarkdown, renderReportMarkdown } from './markdown.ts';
export type { ReportExtras, ReportModel } from './model.ts';
export { reportModel } from './model.ts';
export { illustrativeBanner, illustrativeWord, provenanceMarks } from './provenance.ts';
export { verdictText } from './verdict.ts';

/**
 * The change-board report as one self-contained HTML file. React and the layout load only here,
 * when a report is drawn, not at every start of `uplift plan`.
 */
export async function renderPlanHtml(plan: Plan, extras: ReportExtras = {}): Promise<string> {
  const { renderReportHtml } = await import('./html.tsx');
  return renderReportHtml(reportModel(plan, extras));
}
