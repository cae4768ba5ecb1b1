/**
 * A value as one shell word, for the commands hints print: left bare when no shell would split or
 * expand it, else in single quotes (a quote inside written '\''), so a pasted hint runs as printed.
 */
export function shellWord(s: string): string {
  return /^[\w./@:+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
