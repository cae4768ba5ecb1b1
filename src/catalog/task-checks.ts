/**
 * The ids a catalog task's `check:` may name: the built-in checks of `uplift check`. Kept here as
 * data so that loading a profile can refuse a misspelt id without importing the checks (which
 * import the planner and the profiles); src/checks/registry.test.ts holds it equal to the registry.
 */
export const taskCheckIds: readonly string[] = [
  'disk-space',
  'services-stopped',
  'leftover-pids',
  'tomcat-port',
  'owner',
  'external-database',
  'customized-files',
  'history-folders',
  'one-upgrade-at-a-time',
  'backup',
  'outside-links',
];
