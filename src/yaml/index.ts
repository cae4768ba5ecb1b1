export { loadYamlFast } from './fast-load.ts';
export {
  describeIssues,
  formatPath,
  locate,
  locateKey,
  type PositionedYaml,
  parseYaml,
} from './positions.ts';
