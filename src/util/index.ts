export { cacheDir, readCached, sha256, writeCached } from './cache.ts';
export { canonicalJson } from './canonical-json.ts';
export { drained } from './drained.ts';
export {
  backgroundFlusher,
  type DurableWriteOptions,
  fsyncDir,
  fsyncFile,
  previousOf,
  removeDeadTemps,
  syncTree,
  tempFileOf,
  writeFileDurably,
} from './durable.ts';
export { crashPoint, currentTime, type Faults, setFaults } from './faults.ts';
export { formatBytes, formatDuration, formatValue } from './format.ts';
export { compileGlob, compileKeyPattern, type Glob, matchesAnyGlob } from './glob.ts';
export { mapLimit, mapLimitEach } from './map-limit.ts';
export { buildOnlyPackages, nativePackages } from './native-packages.ts';
export { packageRoot } from './package-root.ts';
export { isAlive, processStart, readBootId, stopSignal } from './process.ts';
export {
  type AcquiredLock,
  type AcquireOptions,
  acquireProcessLock,
  type ProcessLock,
  parseLock,
  readProcessLock,
  releaseProcessLock,
  staleReason,
} from './process-lock.ts';
export {
  kindOf,
  notRegularError,
  readRegularFile,
  refuseNonRegularTarget,
} from './regular-file.ts';
export { type RunScriptOptions, runScript, type ScriptResult } from './run-script.ts';
export { defineEntry, isUnsafeKey, unsafeKeys, withoutUnsafeKeys } from './safe-keys.ts';
export {
  compareText,
  type WalkEntry,
  type WalkEntryType,
  type WalkOptions,
  walk,
  walkSync,
} from './walk.ts';
export { writeAtomically } from './write-atomically.ts';
export { parseXmlText, type XmlParseError } from './xml.ts';
