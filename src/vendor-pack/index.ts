/**
 * The vendor's own upgrade packs (securetransport's `SecureTransport_<to>_UP1-from-<from>_<platform>_BN<build>.zip`):
 * recognise the file name, match it to the catalog's pack for the release, platform and hop, check
 * its size and published checksums, and check the zip's entries and shape without extracting it.
 * See docs/vendor-packs.md.
 */
export { parseVendorPackName, type VendorPackName } from './name.ts';
export { renderVendorPackReport } from './render.ts';
export {
  type ChecksumResult,
  isVendorPackFile,
  sizeRule,
  type VendorPackReport,
  type VerifyVendorPackOptions,
  verifyVendorPack,
} from './verify.ts';
export {
  defaultZipLimits,
  entryNameProblem,
  upgradeSteps,
  type VendorPackStep,
  type VendorPackStepFile,
  type ZipLimits,
} from './zip-shape.ts';
