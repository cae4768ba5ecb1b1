export { renderPlanMarkdown } from './markdown.ts';
export { verdictText } from './verdict.ts';
