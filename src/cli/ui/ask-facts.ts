import { createInterface } from 'node:readline';
import { UpliftError } from '../../errors/index.ts';
import { checkFactFlags, closest, type DeclaredFacts, parseFactFlag } from '../../facts/index.ts';

/** One fact to ask for: its dotted name and what the profile says it may be. */
export interface FactQuestion {
  name: string;
  /** "one of: mysql, oracle, …", "a version", or empty when nothing is declared. */
  about: string;
  /** The answers allowed beyond what the declaration checks (the catalog's platforms). */
  values?: readonly string[];
}

/** What a declaration says a fact may be, for the question. */
export function aboutFact(declared: DeclaredFacts | undefined, name: string, values?: string[]) {
  const d = declared?.facts.get(name);
  const allowed = values ?? d?.values?.map(String);
  const parts = [
    d?.description,
    allowed && allowed.length > 0 ? `one of: ${allowed.join(', ')}` : d ? `a ${d.type}` : '',
    d?.unit ? `in ${d.unit}` : '',
  ];
  return parts.filter((p) => p !== undefined && p !== '').join('; ');
}

/**
 * `uplift plan --ask`: asks for each fact at the terminal, on standard error, each answer checked
 * against the profile's declarations at once (asked again until it passes, or left empty to skip).
 * Returns the answers as `--fact` flags.
 */
export async function askFacts(
  questions: readonly FactQuestion[],
  declared: DeclaredFacts | undefined,
  io: { lines: AsyncIterator<string>; output: NodeJS.WritableStream },
): Promise<string[]> {
  const { lines } = io;
  const flags: string[] = [];
  for (const q of questions) {
    for (;;) {
      io.output.write(`${q.name}${q.about ? ` (${q.about})` : ''}; empty to skip: `);
      const next = await lines.next();
      if (next.done) {
        io.output.write('\n');
        return flags;
      }
      const answer = String(next.value);
      if (answer.trim() === '') break;
      const flag = `${q.name}=${answer.trim()}`;
      if (q.values && !q.values.includes(answer.trim())) {
        const near = closest(answer.trim(), q.values);
        io.output.write(
          `  ${answer.trim()} is not one of ${q.values.join(', ')}${near ? `; did you mean ${near}?` : ''}\n`,
        );
        continue;
      }
      try {
        if (declared)
          checkFactFlags([parseFactFlag(flag)], {
            declared,
            allowUndeclared: false,
            warnings: [],
          });
        flags.push(flag);
        break;
      } catch (err) {
        if (!(err instanceof UpliftError)) throw err;
        io.output.write(
          `  ${err.message}${err.hint ? ` (${err.hint.replace(/\s+/g, ' ')})` : ''}\n`,
        );
      }
    }
  }
  return flags;
}

/**
 * The answers' lines, one reader for every round of questions: its iterator keeps lines that
 * arrive before they are asked for (answers piped in), and the end of the input skips every
 * question left.
 */
export function answerLines(input: NodeJS.ReadableStream): {
  lines: AsyncIterator<string>;
  close: () => void;
} {
  const rl = createInterface({ input, terminal: false });
  return { lines: rl[Symbol.asyncIterator](), close: () => rl.close() };
}
