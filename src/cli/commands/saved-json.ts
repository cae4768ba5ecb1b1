import { type UpliftCode, UpliftError, unreadableFileError } from '../../errors/index.ts';
import { readRegularFile } from '../../util/index.ts';

/**
 * A JSON document another uplift command saved (`uplift check --json > FILE`), read for the plan's
 * report, and a maker of its coded errors: each names the file and the field, says how to save it
 * again (`again`), and states that nothing was written.
 */
export async function readSavedJson(
  file: string,
  code: UpliftCode,
  command: string,
  again: string,
): Promise<{ doc: unknown; bad: (path: string, what: string) => UpliftError }> {
  const text = await readRegularFile(file, 'utf8').catch((err: unknown) => {
    throw unreadableFileError(err, file, again) ?? err;
  });
  const bad = (path: string, what: string) =>
    new UpliftError(code, `${file}: ${path}: ${what}`, {
      hint: again,
      location: { file, path },
      unchanged: true,
    });
  try {
    return { doc: JSON.parse(text), bad };
  } catch (err) {
    throw bad('(file)', `not the JSON of ${command} (${(err as Error).message})`);
  }
}
