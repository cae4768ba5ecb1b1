export { renderPlanMarkdown } from './markdown.ts';
export { illustrativeBanner, illustrativeWord, provenanceMarks } from './provenance.ts';
export { verdictText } from './verdict.ts';
