/**
 * The packages with a compiled `.node` binary that uplift loads: the bundle leaves them out and
 * requires them from a node_modules folder beside it (tools/bundle.ts), and a node agent gets
 * them copied with it (src/transport/agent.ts).
 */
export const nativePackages: readonly string[] = ['better-sqlite3', 'zstd-napi'];

/**
 * Dependencies of those packages used only to build or fetch their binary, never required at run
 * time: a node agent does not need them.
 */
export const buildOnlyPackages: readonly string[] = [
  'prebuild-install',
  'node-addon-api',
  'node-gyp',
  'nan',
  '@types/node',
];
