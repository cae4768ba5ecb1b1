import { withInvocation } from './invocation.ts';
import { stripAnsi, wrapCommand, wrapText } from './wrap.ts';

/**
 * Where an uplift command begins in a line of text for people, or -1: a command stands at the
 * start of its line, after the line's indentation, a label (`hint:`, `next:`, `to do:`) or a list
 * marker. A command inside a sentence is not one: hints put every command on a line of its own.
 */
export function commandStart(plain: string, commands: readonly string[]): number {
  const names = commands.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const m = new RegExp(
    `^(\\s*(?:[a-z][a-z ]{0,10}:\\s+)?(?:[•*→-]\\s+|\\d+[.)]\\s+)?)uplift (?:${names})(?=\\s|$)`,
  ).exec(plain);
  return m ? (m[1] as string).length : -1;
}

/**
 * Text for people (a command's text, a warning, an error): its uplift commands written the way
 * this invocation runs them, and wrapped to `width`. A command line is never broken inside a word:
 * it continues with ` \` (wrapCommand), so what is printed pastes into a shell and runs.
 */
export function forPeople(
  text: string,
  width: number,
  invokedAs: string,
  commands: readonly string[],
): string {
  return text
    .split('\n')
    .map((line) => {
      const at = commandStart(stripAnsi(line), commands);
      const shown = withInvocation(line, invokedAs, commands);
      if (at < 0) return wrapText(shown, width);
      // Colour codes before the command (a coloured label) count in `at` of the raw line.
      const lead = rawIndexOf(shown, at);
      return wrapCommand(shown, lead, width);
    })
    .join('\n');
}

/** The index in `s` (with colour codes) of its `plainIndex`-th visible character. */
function rawIndexOf(s: string, plainIndex: number): number {
  let seen = 0;
  let i = 0;
  while (i < s.length && seen < plainIndex) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters.
    const m = /^\u001b\[[0-9;]*m/.exec(s.slice(i));
    if (m) i += m[0].length;
    else {
      i++;
      seen++;
    }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
  const codes = /^(?:\u001b\[[0-9;]*m)*/.exec(s.slice(i));
  return i + (codes?.[0].length ?? 0);
}
