import { isUtf8 } from 'node:buffer';
import { UpliftError } from '../errors/index.ts';

/**
 * The text of a catalog file, which must be UTF-8 (a byte order mark is allowed): any other
 * encoding is refused rather than read with replacement characters, which would change titles
 * and notes without a word, or read as one string, which the schema would report as nonsense.
 * Checked line by line, so the error names the first bad line: a newline byte never occurs inside
 * a multi-byte UTF-8 sequence.
 */
export function decodeCatalogText(bytes: Buffer, file: string): string {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  )
    throw notUtf8(file, 1, 'it is UTF-16 (it starts with a UTF-16 byte order mark)');
  if (isUtf8(bytes) && !bytes.includes(0)) return bytes.toString('utf8');
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    const text = bytes.subarray(start, end);
    if (text.includes(0))
      throw notUtf8(
        file,
        line,
        `line ${line} holds a NUL byte: it looks like UTF-16 or a binary file`,
      );
    if (!isUtf8(text))
      throw notUtf8(
        file,
        line,
        `line ${line} is not valid UTF-8 (it looks like Latin-1 or another single-byte encoding)`,
      );
    start = end + 1;
    line++;
  }
  /* v8 ignore next -- unreachable: a file that is not UTF-8 has a line that is not */
  return bytes.toString('utf8');
}

function notUtf8(file: string, line: number, why: string): UpliftError {
  return new UpliftError('UPLIFT_CATALOG_YAML', `${file}: ${why}`, {
    hint: `Save the catalog as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8 or -f UTF-16 -t UTF-8), then run the same command again.`,
    location: { file, line },
    unchanged: true,
  });
}
