/**
 * Upgrade packs: the signed file format (docs/pack-format.md), building one from two release trees,
 * verifying it in one streaming pass (optionally staging its entries), inspecting it, and making a
 * release tree from any folder.
 */
export { type BuildOptions, type BuildResult, buildPack } from './build.ts';
export { headerBytes, magic, maxManifestBytes, maxSignatureBytes, scriptPrefix } from './format.ts';
export { type InspectResult, inspectPack } from './inspect.ts';
export {
  describeAdjusted,
  type MakeProgress,
  type MakeReleaseTreeOptions,
  type MakeReleaseTreeResult,
  makeReleaseTree,
} from './make-release-tree.ts';
export {
  type ReleaseManifest,
  type ReleaseTreeInput,
  readReleaseTree,
} from './release-tree.ts';
export { linkTargetProblem, modeProblem, pathProblem } from './safe-path.ts';
export {
  type ConfigMigration,
  type DatabaseMigration,
  type PackDirectory,
  type PackFile,
  type PackHook,
  PackManifest,
  type PackPayload,
  type PackScript,
  type PackSymlink,
} from './schema.ts';
export {
  defaultMaxExpand,
  expansionFloor,
  type InstalledVersion,
  type VerifyOptions,
  type VerifyResult,
  verifyPack,
} from './verify.ts';
export { zstdLevel } from './zstd.ts';
