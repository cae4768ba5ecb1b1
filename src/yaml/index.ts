export {
  describeIssues,
  formatPath,
  locate,
  locateKey,
  type PositionedYaml,
  parseYaml,
} from './positions.ts';
