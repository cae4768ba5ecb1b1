export { codes, type UpliftCode } from './codes.ts';
export { ExitCode } from './exit-codes.ts';
export {
  makeFolders,
  noSpaceError,
  unreadableFileError,
  unwritablePathError,
} from './path-errors.ts';
export { shellWord } from './shell-word.ts';
export {
  ExitError,
  formatLocation,
  type SourceLocation,
  UpliftError,
  type UpliftErrorDetail,
  type UpliftErrorOptions,
  withResult,
} from './uplift-error.ts';
