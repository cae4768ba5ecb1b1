export { cacheDir, readCached, sha256, writeCached } from './cache.ts';
export { formatBytes, formatDuration, formatValue } from './format.ts';
export { writeAtomically } from './write-atomically.ts';
