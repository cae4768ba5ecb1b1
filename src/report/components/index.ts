/**
 * The report's components, for the dashboard to reuse: each renders from the report model
 * (../model.ts) to plain SVG or HTML, with no script and no state, in the browser as on the server.
 */
export { CheckTable } from './check-table.tsx';
export { IllustrativeMark } from './illustrative-mark.tsx';
export { layoutGraph } from './layout-graph.ts';
export { reportCss } from './styles.ts';
export { Timeline } from './timeline.tsx';
export { VerdictBadge } from './verdict-badge.tsx';
export { VersionGraph } from './version-graph.tsx';
export { WeekHeatMap } from './week-heat-map.tsx';
