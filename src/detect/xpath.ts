/**
 * The XPath subset detection needs to pick values out of configuration XML, over any DOM with
 * `childNodes` / `getAttribute` (xmldom's):
 *
 *   path      := ( "/" | "//" ) step ( ( "/" | "//" ) step )* [ ( "/" | "//" ) tail ]
 *   step      := ( NAME | "*" ) predicate*
 *   predicate := "[" "@" NAME [ "=" QUOTED ] "]" | "[" INTEGER "]"
 *   tail      := "@" NAME | "text()"
 *
 * e.g. `//Connector/@port`, `/Server/Service/Engine/@jvmRoute`,
 * `//Connector[@protocol='AJP/1.3'][1]/@port`. Names match the local name, so a namespace
 * prefix does not hide an element. A full XPath engine would be a dependency for four operators.
 */

export interface XmlNode {
  nodeType: number;
  nodeName: string;
  localName?: string | null;
  childNodes: ArrayLike<XmlNode>;
  textContent?: string | null;
  getAttribute?(name: string): string | null;
  hasAttribute?(name: string): boolean;
}

interface Predicate {
  attr?: string;
  equals?: string;
  index?: number;
}

interface Step {
  descendant: boolean;
  name: string;
  predicates: Predicate[];
}

export interface CompiledXPath {
  steps: Step[];
  tail: { attr: string } | { text: true } | undefined;
}

const ELEMENT = 1;

/** Compiles an expression, or returns why it is outside the subset. */
export function compileXPath(source: string): CompiledXPath | string {
  const steps: Step[] = [];
  let tail: CompiledXPath['tail'];
  let i = 0;
  const s = source.trim();
  if (!s.startsWith('/')) return 'start with / or //';
  while (i < s.length) {
    if (tail) return `nothing may follow ${tail && 'attr' in tail ? `@${tail.attr}` : 'text()'}`;
    let descendant = false;
    if (s.startsWith('//', i)) {
      descendant = true;
      i += 2;
    } else if (s[i] === '/') i += 1;
    else return `expected / at column ${i + 1}`;
    const attr = /^@([A-Za-z_][\w.:-]*)/.exec(s.slice(i));
    if (attr) {
      tail = { attr: attr[1] as string };
      i += attr[0].length;
      continue;
    }
    if (s.startsWith('text()', i)) {
      tail = { text: true };
      i += 6;
      continue;
    }
    const name = /^(\*|[A-Za-z_][\w.:-]*)/.exec(s.slice(i));
    if (!name) return `expected an element name, @attribute or text() at column ${i + 1}`;
    i += name[0].length;
    const predicates: Predicate[] = [];
    for (;;) {
      const pred =
        /^\[\s*@([A-Za-z_][\w.:-]*)\s*(?:=\s*(?:'([^']*)'|"([^"]*)"))?\s*\]/.exec(s.slice(i)) ??
        undefined;
      if (pred) {
        predicates.push({ attr: pred[1], equals: pred[2] ?? pred[3] });
        i += pred[0].length;
        continue;
      }
      const idx = /^\[\s*(\d+)\s*\]/.exec(s.slice(i));
      if (idx) {
        const index = Number(idx[1]);
        if (index < 1) return 'positions count from 1';
        predicates.push({ index });
        i += idx[0].length;
        continue;
      }
      if (s[i] === '[') return `unsupported predicate at column ${i + 1}`;
      break;
    }
    steps.push({ descendant, name: localOf(name[1] as string), predicates });
  }
  if (steps.length === 0) return 'name at least one element';
  return { steps, tail };
}

/** The string values the expression selects, in document order. */
export function evaluateXPath(xpath: CompiledXPath, document: XmlNode): string[] {
  let nodes: XmlNode[] = [document];
  for (const step of xpath.steps) {
    const next: XmlNode[] = [];
    for (const node of nodes) {
      const candidates = step.descendant ? descendants(node) : children(node);
      let matched = candidates.filter((c) => step.name === '*' || localOf(c) === step.name);
      for (const p of step.predicates) {
        if (p.index !== undefined) matched = matched.slice(p.index - 1, p.index);
        else matched = matched.filter((c) => matchesAttr(c, p));
      }
      next.push(...matched);
    }
    nodes = unique(next);
  }
  const tail = xpath.tail;
  if (tail === undefined || 'text' in tail) return nodes.map((n) => n.textContent ?? '');
  return nodes
    .filter((n) => n.hasAttribute?.(tail.attr))
    .map((n) => n.getAttribute?.(tail.attr) ?? '');
}

function matchesAttr(node: XmlNode, p: Predicate): boolean {
  const name = p.attr as string;
  if (!node.hasAttribute?.(name)) return false;
  return p.equals === undefined || node.getAttribute?.(name) === p.equals;
}

function children(node: XmlNode): XmlNode[] {
  return Array.from(node.childNodes).filter((c) => c.nodeType === ELEMENT);
}

function descendants(node: XmlNode): XmlNode[] {
  const out: XmlNode[] = [];
  const visit = (n: XmlNode) => {
    for (const c of children(n)) {
      out.push(c);
      visit(c);
    }
  };
  visit(node);
  return out;
}

function unique(nodes: XmlNode[]): XmlNode[] {
  return [...new Set(nodes)];
}

function localOf(node: XmlNode | string): string {
  const name = typeof node === 'string' ? node : (node.localName ?? node.nodeName);
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}
