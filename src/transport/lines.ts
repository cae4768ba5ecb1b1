/**
 * Collects a stream's bytes and hands each complete line to `onLine` as it arrives; `end()`
 * hands over a last line that had no newline.
 */
export function lineCollector(onLine?: (line: string) => void) {
  const chunks: Buffer[] = [];
  let pending = '';
  return {
    push(b: Buffer): void {
      chunks.push(b);
      if (onLine === undefined) return;
      pending += b.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl !== -1) {
        onLine(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    },
    end(): string {
      if (onLine !== undefined && pending !== '') onLine(pending);
      pending = '';
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** A word for a POSIX shell: bare when nothing in it is special, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w./@:+,%-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
