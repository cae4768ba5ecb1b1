/**
 * Upgrade packs: the signed file format (docs/pack-format.md), building one from two release trees,
 * verifying it in one streaming pass (optionally staging its files), and inspecting it.
 */
export { type BuildOptions, type BuildResult, buildPack } from './build.ts';
export { headerBytes, magic, maxManifestBytes, maxSignatureBytes, scriptPrefix } from './format.ts';
export { type InspectResult, inspectPack } from './inspect.ts';
export { modeProblem, pathProblem } from './safe-path.ts';
export {
  type ConfigMigration,
  type DatabaseMigration,
  type PackFile,
  type PackHook,
  PackManifest,
  type PackPayload,
  type PackScript,
} from './schema.ts';
export {
  type InstalledVersion,
  type VerifyOptions,
  type VerifyResult,
  verifyPack,
} from './verify.ts';
export { zstdLevel } from './zstd.ts';
