import type { DOMParser } from '@xmldom/xmldom';

/** The first error xmldom reported, where it has a position. */
export interface XmlParseError {
  message: string;
  line?: number;
  col?: number;
}

/**
 * Parses XML text with xmldom. Warnings (what xmldom can repair, such as a missing quote) pass;
 * the first error is returned, with its line and column when xmldom gives them. A thrown error's
 * message counts only by its first line. The caller passes xmldom's `DOMParser`, so that
 * importing src/util does not load xmldom (~45 ms) into every command.
 */
export function parseXmlText(
  Parser: typeof DOMParser,
  text: string,
): { doc: ReturnType<DOMParser['parseFromString']> | undefined; error: XmlParseError | undefined } {
  let error: XmlParseError | undefined;
  let doc: ReturnType<DOMParser['parseFromString']> | undefined;
  try {
    doc = new Parser({
      onError: (level, message, context) => {
        if (level === 'warning' || error) return;
        const loc = (context as { locator?: { lineNumber?: number; columnNumber?: number } })
          ?.locator;
        error = {
          message,
          line: loc?.lineNumber || undefined,
          col: loc?.columnNumber || undefined,
        };
      },
    }).parseFromString(text, 'text/xml');
  } catch (cause) {
    error ??= {
      message:
        cause instanceof Error ? (cause.message.split('\n')[0] ?? cause.message) : String(cause),
    };
  }
  return { doc, error };
}
