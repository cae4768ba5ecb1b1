import * as dottedPatch from './dotted-patch/index.ts';
import * as semver from './semver/index.ts';
import type { VersionScheme } from './types.ts';

/**
 * The built-in schemes by id. `regex:<pattern>` schemes are built on demand by getScheme and are
 * not listed here. Adding a scheme: a folder with index.ts, index.test.ts and readme.md, and one
 * `set` below; registry.test.ts holds every entry to the contract.
 */
export const schemes = new Map<string, VersionScheme>();

schemes.set(semver.id, semver.api);
schemes.set(dottedPatch.id, dottedPatch.api);
