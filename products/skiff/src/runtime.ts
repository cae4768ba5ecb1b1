import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** `<install>/.skiff/runtime.json`, written by the installer. */
export interface Runtime {
  /** The node binary bin/start_all runs. */
  node: string;
  /** The node_modules folder that holds better-sqlite3 and yaml (the installing uplift's). */
  nodeModules: string;
}

export function readRuntime(home: string): Runtime {
  return JSON.parse(readFileSync(join(home, '.skiff/runtime.json'), 'utf8')) as Runtime;
}

/**
 * The server's third-party modules (better-sqlite3 is native) are not copied into the release:
 * they are loaded from the node_modules folder that bin/start_all exports as NODE_PATH. ESM
 * ignores NODE_PATH, so this builds a CommonJS `require` rooted there; without NODE_PATH (a
 * server started by hand) it falls back to .skiff/runtime.json.
 */
export function loadDependencies(home: string): {
  Database: typeof import('better-sqlite3');
  parseYaml: (text: string) => unknown;
} {
  const dir =
    process.env.NODE_PATH?.split(delimiter).find((p) => p !== '') ?? readRuntime(home).nodeModules;
  // A require() for a file inside node_modules searches that node_modules folder itself.
  const require = createRequire(join(dir, 'skiff-runtime.cjs'));
  const yaml = require('yaml') as typeof import('yaml');
  return { Database: require('better-sqlite3'), parseYaml: (text) => yaml.parse(text) };
}
