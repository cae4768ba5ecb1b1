import { lookupFact } from './facts.ts';

/*
 * Duration formulas over facts: `ceil(nodes / max_unavailable) * 10m`. A small recursive-descent
 * parser and an evaluator over the tree; a catalog is data, never code, so nothing here reaches
 * eval or Function. The module lives beside the rules (not under plan/) because the catalog
 * loader validates formulas when it reads the file, and catalog/ must not import plan/.
 *
 *   sum     = product { ("+" | "-") product }
 *   product = unary { ("*" | "/") unary }
 *   unary   = "-" unary | atom
 *   atom    = NUMBER [ "s" | "m" | "h" | "d" ] | NAME "(" sum { "," sum } ")" | FACT | "(" sum ")"
 */

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'fact'; path: string; at: number }
  | { kind: 'neg'; arg: Node }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: Node; right: Node; at: number }
  | { kind: 'call'; name: FunctionName; args: Node[]; at: number };

const functions = {
  ceil: { arity: 1, apply: (a: number[]) => Math.ceil(a[0] as number) },
  floor: { arity: 1, apply: (a: number[]) => Math.floor(a[0] as number) },
  round: { arity: 1, apply: (a: number[]) => Math.round(a[0] as number) },
  min: { arity: 'many', apply: (a: number[]) => Math.min(...a) },
  max: { arity: 'many', apply: (a: number[]) => Math.max(...a) },
} as const;
type FunctionName = keyof typeof functions;

/** Seconds per unit suffix of a number: `90s`, `10m`, `1.5h`, `2d`. */
const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A formula that parsed: its source, the facts it reads, and the tree the evaluator walks. */
export interface Formula {
  source: string;
  /** Fact paths the formula reads, in order of first use. */
  facts: readonly string[];
  readonly node: Node;
}

/** Why a formula cannot be read, and where: `offset` counts characters from 0. */
export interface FormulaError {
  message: string;
  offset: number;
}

export type FormulaValue =
  | { ok: true; seconds: number }
  | { ok: false; missing: string[]; problem?: string };

/** Parses a formula; a problem is a value with the character offset it was found at. */
export function parseFormula(source: string): Formula | FormulaError {
  const p = new Parser(source);
  try {
    const node = p.sum();
    p.skipBlanks();
    if (p.pos < source.length) p.fail(`unexpected "${source[p.pos]}"`);
    return { source, facts: [...p.facts], node };
  } catch (err) {
    if (err instanceof ParseError) return { message: err.message, offset: err.offset };
    throw err;
  }
}

export function isFormulaError(f: Formula | FormulaError): f is FormulaError {
  return 'offset' in f;
}

/**
 * The formula's value in seconds. A fact that is missing or not a number makes it unknown (the
 * missing paths are named); so does a division by zero or a result that is not a finite number.
 */
export function evaluateFormula(f: Formula, facts: unknown): FormulaValue {
  const missing: string[] = [];
  for (const path of f.facts) {
    const found = lookupFact(facts, path);
    if (!found.found || !Number.isFinite(toNumber(found.value))) missing.push(path);
  }
  if (missing.length > 0) return { ok: false, missing };
  try {
    const seconds = evaluate(f.node, facts);
    if (!Number.isFinite(seconds))
      return { ok: false, missing: [], problem: `"${f.source}" gives no finite number` };
    return { ok: true, seconds };
  } catch (err) {
    if (err instanceof ParseError)
      return {
        ok: false,
        missing: [],
        problem: `"${f.source}" at character ${err.offset + 1}: ${err.message}`,
      };
    throw err;
  }
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

function evaluate(n: Node, facts: unknown): number {
  switch (n.kind) {
    case 'number':
      return n.value;
    case 'fact': {
      const found = lookupFact(facts, n.path);
      return toNumber(found.found ? found.value : undefined);
    }
    case 'neg':
      return -evaluate(n.arg, facts);
    case 'call':
      return functions[n.name].apply(n.args.map((a) => evaluate(a, facts)));
    case 'binary': {
      const a = evaluate(n.left, facts);
      const b = evaluate(n.right, facts);
      if (n.op === '+') return a + b;
      if (n.op === '-') return a - b;
      if (n.op === '*') return a * b;
      if (b === 0) throw new ParseError('divides by zero', n.at);
      return a / b;
    }
  }
}

class ParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

class Parser {
  pos = 0;
  readonly facts = new Set<string>();
  private readonly s: string;
  private depth = 0;

  constructor(source: string) {
    this.s = source;
  }

  fail(message: string, at = this.pos): never {
    throw new ParseError(message, at);
  }

  skipBlanks(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos] as string)) this.pos++;
  }

  private peek(): string | undefined {
    this.skipBlanks();
    return this.s[this.pos];
  }

  private expect(ch: string): void {
    if (this.peek() !== ch)
      this.fail(
        this.pos >= this.s.length
          ? `expected "${ch}" at the end`
          : `expected "${ch}", found "${this.s[this.pos]}"`,
      );
    this.pos++;
  }

  sum(): Node {
    // A formula of a catalog is short; this bound keeps a hostile one from exhausting the stack.
    if (++this.depth > 64) this.fail('the formula nests too deeply');
    let left = this.product();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      const at = this.pos++;
      left = { kind: 'binary', op, left, right: this.product(), at };
    }
    this.depth--;
    return left;
  }

  private product(): Node {
    let left = this.unary();
    for (let op = this.peek(); op === '*' || op === '/'; op = this.peek()) {
      const at = this.pos++;
      left = { kind: 'binary', op, left, right: this.unary(), at };
    }
    return left;
  }

  private unary(): Node {
    if (this.peek() === '-') {
      this.pos++;
      if (++this.depth > 64) this.fail('the formula nests too deeply');
      const arg = this.unary();
      this.depth--;
      return { kind: 'neg', arg };
    }
    return this.atom();
  }

  private atom(): Node {
    const ch = this.peek();
    if (ch === undefined) this.fail('expected a number, a fact or "(" at the end');
    if (ch === '(') {
      this.pos++;
      const inner = this.sum();
      this.expect(')');
      return inner;
    }
    const start = this.pos;
    const number = /^(?:\d+(?:\.\d+)?|\.\d+)/.exec(this.s.slice(start));
    if (number) {
      this.pos += number[0].length;
      let value = Number(number[0]);
      const unit = /^[a-z]+/i.exec(this.s.slice(this.pos))?.[0];
      if (unit !== undefined) {
        const factor = units[unit];
        if (factor === undefined)
          this.fail(`unknown unit "${unit}": write s, m, h or d (10m is 600 seconds)`);
        value *= factor;
        this.pos += unit.length;
      }
      return { kind: 'number', value };
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/.exec(this.s.slice(start))?.[0];
    if (name === undefined) this.fail(`unexpected "${ch}": expected a number, a fact or "("`);
    this.pos += name.length;
    if (this.peek() !== '(') {
      this.facts.add(name);
      return { kind: 'fact', path: name, at: start };
    }
    if (!Object.hasOwn(functions, name))
      this.fail(`unknown function "${name}": use ceil, floor, round, min or max`, start);
    const fn = name as FunctionName;
    this.pos++;
    const args = [this.sum()];
    while (this.peek() === ',') {
      this.pos++;
      args.push(this.sum());
    }
    this.expect(')');
    if (functions[fn].arity === 1 && args.length !== 1)
      this.fail(`${fn} takes one argument, got ${args.length}`, start);
    return { kind: 'call', name: fn, args, at: start };
  }
}
