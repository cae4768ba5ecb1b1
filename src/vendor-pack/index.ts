/**
 * A vendor's own upgrade packs, named as the product profile's `vendorPacks` says: recognise the
 * file name, match it to the catalog's pack for the release, platform and hop, check
 * its size and published checksums, and check the zip's entries and shape without extracting it.
 * See docs/vendor-packs.md.
 */
export { type NamingSource, readVendorPackName, vendorPackNamings } from './find-naming.ts';
export { parseVendorPackName, type VendorPackName, type VendorPackNaming } from './name.ts';
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
