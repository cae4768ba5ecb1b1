import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { displayWidth, stripAnsi, wrapCommand, wrapText } from './wrap.ts';

const widths = (s: string) => s.split('\n').map(displayWidth);

describe('wrapText', () => {
  it('leaves short lines and blank lines as they are', () => {
    expect(wrapText('a b\n\n  c  d\n', 80)).toBe('a b\n\n  c  d\n');
  });

  it('breaks between words and hangs continuation lines under the text of a list item', () => {
    const line = `  • ${'word '.repeat(30).trim()}`;

    const out = wrapText(line, 40);

    expect(Math.max(...widths(out))).toBeLessThanOrEqual(40);
    const [first, ...rest] = out.split('\n');
    expect(first?.startsWith('  • word')).toBe(true);
    for (const l of rest) expect(l).toMatch(/^ {4}word/);
    expect(out.replace(/\s+/g, ' ')).toBe(line.replace(/\s+/g, ' '));
  });

  it.each([
    ['   1. Upgrade a → b and more words here to wrap', 6, 30],
    ['  hint: run this and that and more words here', 8, 30],
    ['  ACTION   File Tracking tables change structure', 11, 30],
    ['  [check backup] Back up the installation with all the files', 17, 40],
  ])('hangs %j under its marker', (line, columns, width) => {
    const hang = ' '.repeat(columns);

    const out = wrapText(line, width).split('\n');

    expect(out.length).toBeGreaterThan(1);
    for (const l of out.slice(1)) expect(l.startsWith(hang) && l[hang.length] !== ' ').toBe(true);
  });

  it('keeps the space before a word that ends exactly at the width', () => {
    // 39 columns, then " a": the space does not fit before a break, but "a" lands on column 40.
    const line = `  ${'x'.repeat(34)} in a non-root`;

    const out = wrapText(line, 40);

    expect(out).toBe(`  ${'x'.repeat(34)} in\n  a non-root`);
    expect(out.replace(/\s+/g, ' ')).toBe(line.replace(/\s+/g, ' '));
  });

  it('cuts a word longer than the line', () => {
    const out = wrapText(`  pack ${'x'.repeat(100)}`, 40);

    expect(Math.max(...widths(out))).toBeLessThanOrEqual(40);
    expect(out.replace(/\s/g, '')).toBe(`pack${'x'.repeat(100)}`);
  });

  it('does not count colour codes, and closes and reopens a colour across a break', () => {
    const line = `  ${pc.dim('one two three four five six seven eight nine ten')}`;

    const out = wrapText(line, 20);

    expect(Math.max(...widths(out))).toBeLessThanOrEqual(20);
    expect(stripAnsi(out).replace(/\s+/g, ' ').trim()).toBe(
      'one two three four five six seven eight nine ten',
    );
  });

  it('keeps colour state across a break when colour is on', () => {
    const line = 'aaa \u001b[2mbbb ccc ddd eee\u001b[22m fff';

    const out = wrapText(line, 10).split('\n');

    expect(out[0]).toBe('aaa \u001b[2mbbb\u001b[0m');
    expect(out[1]).toBe('\u001b[2mccc ddd\u001b[0m');
  });

  it('leaves box-drawn table lines alone', () => {
    const row = `│ ${'x'.repeat(100)} │`;

    expect(wrapText(row, 40)).toBe(row);
  });

  it('measures wide characters as two columns', () => {
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth(pc.red('ab'))).toBe(2);
  });
});

describe('wrapCommand', () => {
  it('continues a long command with " \\" between shell words, never inside one', () => {
    const line = `  next: uplift restore '/tmp/a b/backup-20250101.tar.gz' --install /very/long/path/to/the/installation`;

    const out = wrapCommand(line, 8, 40);

    const lines = out.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(0, -1)) expect(l.endsWith(' \\')).toBe(true);
    expect(out.replace(/ \\\n\s*/g, ' ')).toBe(line);
    expect(out).toContain("'/tmp/a b/backup-20250101.tar.gz'");
    expect(out).toContain('/very/long/path/to/the/installation');
  });

  it('leaves a command that fits as it is', () => {
    expect(wrapCommand('    uplift status --install /x', 4, 40)).toBe(
      '    uplift status --install /x',
    );
  });
});
