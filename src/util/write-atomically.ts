import { writeFileDurably } from './durable.ts';

/** Writes a whole file or nothing (reports, `--out` files): a durable replace, readable by all. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await writeFileDurably(file, text, { mode: 0o644, mkdirs: true });
}
