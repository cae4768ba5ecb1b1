/**
 * Bytes to merge-ready text and back. Merges work on text without a BOM and with LF line ends;
 * the output takes the customer's BOM and line ends again.
 */

export interface DecodedText {
  /** The text without a BOM, with CRLF turned into LF. */
  text: string;
  bom: boolean;
  /** The line end most lines use (a file without line ends counts as LF). */
  eol: '\n' | '\r\n';
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Binary: a NUL byte, or bytes that are not UTF-8. Such files are never merged. */
export function isBinary(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  try {
    utf8.decode(bytes);
    return false;
  } catch {
    return true;
  }
}

/** Decodes UTF-8 text (call `isBinary` first). */
export function decodeText(bytes: Buffer): DecodedText {
  let text = utf8.decode(bytes);
  const bom = text.charCodeAt(0) === 0xfeff;
  if (bom) text = text.slice(1);
  const lf = (text.match(/\n/g) ?? []).length;
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const eol = crlf > 0 && crlf * 2 >= lf ? '\r\n' : '\n';
  return { text: text.replace(/\r\n/g, '\n'), bom, eol };
}

/** Encodes merged text (LF line ends) with the customer's BOM and line ends. */
export function encodeText(text: string, like: { bom: boolean; eol: '\n' | '\r\n' }): Buffer {
  const body = like.eol === '\r\n' ? text.replace(/\n/g, '\r\n') : text;
  return Buffer.from(like.bom ? `\uFEFF${body}` : body, 'utf8');
}
