// Wrapping text for a terminal. Written here rather than taken from wrap-ansi: what uplift prints
// is picocolors' SGR codes around mostly ASCII text, and wrap-ansi would bring four packages
// (string-width, strip-ansi, ansi-styles and their regexes) for a hanging indent it does not do.

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
const ansiPattern = /\u001b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const ansiAt = /\u001b\[[0-9;]*m/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const spacesBeforeCodesAtEnd = / +((?:\u001b\[[0-9;]*m)*)$/;

/** The text without its colour codes. */
export function stripAnsi(s: string): string {
  return s.replace(ansiPattern, '');
}

/**
 * Columns a string takes on a terminal: colour codes take none, East Asian wide and fullwidth
 * characters take two, combining marks none. Close enough for what uplift prints (catalog text,
 * paths, versions); emoji sequences are not measured exactly.
 */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of stripAnsi(s)) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x300 && cp <= 0x36f) || cp === 0x200b)
      continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/**
 * Where a line's continuation lines start: after its indentation and its list marker, so a
 * wrapped item hangs under its own text. Markers: `•`, `-`, `*`, `→`, `1.`, `12)`, `[…]`, and a
 * padded label of capitals (`ACTION   `, `UNKNOWN  `) as the plan's sections print them, and
 * an error's `error ` before its code.
 */
const hangPattern =
  /^(\s*)((?:[•*→-]|\d+[.)]|\[[^\]]{1,30}\]|[A-Z][A-Z-]{2,}(?= {2})|[a-z][a-z -]{0,20}:|error(?= UPLIFT_))\s+)?/;

/** The width of the hanging indent of one (colour-stripped) line. */
function hangOf(plain: string, width: number): number {
  const m = hangPattern.exec(plain);
  const hang = m ? displayWidth(m[0]) : 0;
  // A marker so wide that little room is left hangs under the indentation only.
  if (hang > width / 2) return Math.min(displayWidth(m?.[1] ?? ''), Math.floor(width / 2));
  return hang;
}

/** One line as tokens: words with their colour codes, and the runs of spaces between them. */
function tokenize(line: string): string[] {
  return line.match(/ +|[^ ]+/g) ?? [];
}

/**
 * Wraps text to `width` columns. Each line keeps its own indentation; a line too long breaks
 * between words and its continuation lines hang under the text after its list marker. A word
 * longer than the room left (a long path, a hash) is cut. Colour codes are carried whole and
 * never counted; a colour open at a break is closed before it and opened again after, so a pager
 * or a log shows no bleed. Lines of a box-drawn table are left as they are.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => wrapLine(line, Math.max(width, 10)))
    .join('\n');
}

function wrapLine(line: string, width: number): string {
  if (displayWidth(line) <= width || /^[\s]*[┌│├└╭╰┃┏┗]/.test(stripAnsi(line))) return line;
  const hang = ' '.repeat(hangOf(stripAnsi(line), width));
  const out: string[] = [];
  let current = '';
  let currentWidth = 0;
  let open = ''; // colour codes in force at the end of `current`
  let fresh = false; // a continuation line with nothing on it yet
  const flush = () => {
    out.push(current.replace(spacesBeforeCodesAtEnd, '$1') + (open ? '\u001b[0m' : ''));
    current = hang + open;
    currentWidth = hang.length;
    fresh = true;
  };
  for (const token of tokenize(line)) {
    const w = displayWidth(token);
    if (token.startsWith(' ')) {
      // Spaces at a break are dropped; elsewhere they are kept (they may align columns).
      if (!fresh && currentWidth + w <= width) {
        current += token;
        currentWidth += w;
      }
      continue;
    }
    if (currentWidth + w > width && !fresh && stripAnsi(current).trim() !== '') flush();
    let rest = token;
    while (currentWidth + displayWidth(rest) > width) {
      const room = Math.max(width - currentWidth, 1);
      const [head, tail] = splitAt(rest, room);
      current += head;
      open = trackColour(open, head);
      currentWidth += displayWidth(head);
      rest = tail;
      flush();
    }
    current += rest;
    open = trackColour(open, rest);
    currentWidth += displayWidth(rest);
    fresh = false;
  }
  out.push(current.replace(/ +$/, ''));
  return out.join('\n');
}

/** The first `columns` visible columns of a token (colour codes kept with them), and the rest. */
function splitAt(token: string, columns: number): [string, string] {
  let i = 0;
  let used = 0;
  while (i < token.length) {
    if (token[i] === '\u001b') {
      ansiAt.lastIndex = i;
      const m = ansiAt.exec(token);
      if (m) {
        i += m[0].length;
        continue;
      }
    }
    const ch = String.fromCodePoint(token.codePointAt(i) as number);
    const w = displayWidth(ch);
    if (used + w > columns && used > 0) break;
    used += w;
    i += ch.length;
  }
  return [token.slice(0, i), token.slice(i)];
}

/** The colour codes still in force after `s`, given those in force before it. */
function trackColour(open: string, s: string): string {
  let state = open;
  for (const m of s.matchAll(ansiPattern)) {
    const params = m[0].slice(2, -1);
    // picocolors closes with a specific reset (22, 39, 49 …); any close ends what is open, which
    // is exact for the one-colour-at-a-time text uplift prints.
    if (/^(0?|2[0-9]|39|49)$/.test(params)) state = '';
    else state += m[0];
  }
  return state;
}

/** Shell words of a command line: quoted strings stay whole, colour codes stay with their word. */
function shellWordsOf(s: string): string[] {
  return s.match(/(?:'[^']*'|"(?:\\.|[^"\\])*"|[^\s'"]+)+/g) ?? [];
}

/**
 * A command line (docs/output.md, "Commands in hints"): never broken inside a word. When it does not
 * fit, it continues with ` \` on lines indented under the command, so it still pastes into a shell
 * as one command; a word longer than the line (a long path) stands alone on its line, uncut.
 * `start` is where the command begins in the line: what comes before (indentation, a label such as
 * `hint:`) stays in front of it.
 */
export function wrapCommand(line: string, start: number, width: number): string {
  if (displayWidth(line) <= width) return line;
  const lead = line.slice(0, start);
  const words = shellWordsOf(line.slice(start));
  const indent = ' '.repeat(Math.min(displayWidth(lead) + 2, Math.floor(width / 2)));
  const out: string[] = [];
  let current = lead;
  let currentWidth = displayWidth(lead);
  let fresh = true;
  for (const word of words) {
    const w = displayWidth(word);
    // Room for the word and, since more may follow, for " \".
    if (!fresh && currentWidth + 1 + w + 2 > width) {
      out.push(`${current} \\`);
      current = indent;
      currentWidth = indent.length;
      fresh = true;
    }
    current += fresh ? word : ` ${word}`;
    currentWidth += fresh ? w : w + 1;
    fresh = false;
  }
  out.push(current);
  return out.join('\n');
}
