import type { VersionSource } from './schema.ts';

/** How messages name a version source: its file, or the command whose output it reads. */
export function describeVersionSource(v: VersionSource): string {
  if (v.command) return `the output of ${v.command.argv.join(' ')}`;
  return (v.file ?? v.json ?? v.yaml ?? v.xml) as string;
}
