import {
  type FileMerge as MergedFile,
  type MergeInput,
  mergeFile as structuredMerge,
} from '../merge/index.ts';

/**
 * The apply engine's view of a configuration merge: src/merge's `mergeFile` (key-level for YAML,
 * properties, XML and JSON, by line otherwise). `format` is optional here because apply also
 * reports outcomes it decides by hashes alone, without merging.
 */
export type FileMerge = Omit<MergedFile, 'format'> & { format?: MergedFile['format'] };
export type MergeOutcome = MergedFile['outcome'];

export function mergeFile(o: MergeInput): FileMerge {
  return structuredMerge(o);
}
