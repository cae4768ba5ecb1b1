import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { defineEntry, parseXmlText } from '../util/index.ts';
import { rebaseLayout } from './layout.ts';
import type { StructuredMerge, StructuredOptions } from './structured.ts';
import { describeTreeMerge, parseSides, resolveByPolicy } from './structured.ts';
import { isEqualTree, mergeTrees, type PathKey } from './tree.ts';

/**
 * Key-level merge of XML over xmldom's DOM. Each element becomes a map of its attributes
 * (`@name`), its text when it has no child elements (`#text`), and its child elements, keyed by
 * name plus the first identifying attribute it has (`id`, `name`, `key`, `port`; the root element
 * by its name alone), e.g.
 * `Connector[@port='8443']`; children without one are keyed by name, with a position
 * (`Valve[2]`) when the name repeats. Attributes and text merge per element; elements are added,
 * removed and changed where the vendor changed them and the customer did not. The edits go into
 * the customer's DOM (declaration, comments and whitespace stay), and the serialised result is
 * rebased onto the customer's text (layout.ts) so untouched lines keep their bytes.
 * Text between child elements (mixed content) is not merged.
 */

const identifying = ['id', 'name', 'key', 'port'] as const;
const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

type XDocument = ReturnType<DOMParser['parseFromString']>;
type XNode = XDocument['firstChild'] & {};
type XElement = XDocument['documentElement'] & {};

export function mergeXml(
  base: string | null,
  ours: string,
  theirs: string,
  options: StructuredOptions = {},
): StructuredMerge {
  const sides = parseSides({ base, ours, theirs }, (text) => {
    const doc = parseXml(text);
    return typeof doc === 'string' ? { error: doc } : { value: doc };
  });
  if ('unparsable' in sides) return sides;
  const docs = sides.values;
  const oursDoc = docs.ours as XDocument;
  const theirsDoc = docs.theirs as XDocument;
  const tree = mergeTrees(
    docs.base ? documentTree(docs.base) : undefined,
    documentTree(oursDoc),
    documentTree(theirsDoc),
    { resolve: (path) => resolveByPolicy(options.policy, xpathOf(path)) },
  );
  const { conflicts, notes } = describeTreeMerge(tree, xpathOf);
  if (tree.edits.length === 0) return { text: ours, conflicts, notes, changed: false };

  const serializer = new XMLSerializer();
  const before = serializer.serializeToString(oursDoc);
  const mine = indexElements(oursDoc);
  const vendor = indexElements(theirsDoc);
  for (const edit of tree.edits) {
    const last = edit.path.at(-1) as string;
    const owner = mine.get(pathId(edit.path.slice(0, -1)));
    if (last.startsWith('@')) {
      if (!owner) continue;
      if (edit.op === 'delete') owner.removeAttribute(last.slice(1));
      else owner.setAttribute(last.slice(1), String(edit.value));
    } else if (last === '#text') {
      if (!owner) continue;
      for (const n of childList(owner))
        if (n.nodeType === TEXT || n.nodeType === CDATA) owner.removeChild(n);
      if (edit.op !== 'delete') owner.appendChild(oursDoc.createTextNode(String(edit.value)));
    } else {
      applyElementEdit(edit.op, edit.path, oursDoc, mine, theirsDoc, vendor);
    }
  }
  const after = serializer.serializeToString(oursDoc);
  for (const text of [rebaseLayout(ours, before, after), after]) {
    const check = parseXml(text);
    if (typeof check !== 'string' && isEqualTree(documentTree(check), tree.merged)) {
      return { text, conflicts, notes, changed: text !== ours };
    }
  }
  return {
    unparsable: { side: 'merged', message: 'the merged file does not read back as merged' },
  };
}

function parseXml(text: string): XDocument | string {
  const { doc, error } = parseXmlText(DOMParser, text);
  if (error) return error.line ? `line ${error.line}: ${error.message}` : error.message;
  if (!doc?.documentElement) return 'not an XML document';
  return doc;
}

function childList(node: XNode | XElement | XDocument): XNode[] {
  return Array.from(node.childNodes as ArrayLike<XNode>);
}

function elementChildren(node: XElement | XDocument): XElement[] {
  return childList(node).filter((n): n is XElement => n.nodeType === ELEMENT);
}

/** Keys of an element's child elements, in document order. */
function childKeys(children: readonly XElement[]): string[] {
  const base = children.map((el) => {
    const id = identifying.find((a) => el.hasAttribute(a));
    return id ? `${el.nodeName}[@${id}=${quote(el.getAttribute(id) ?? '')}]` : el.nodeName;
  });
  const counts = new Map<string, number>();
  for (const k of base) counts.set(k, (counts.get(k) ?? 0) + 1);
  const seen = new Map<string, number>();
  return base.map((k) => {
    if ((counts.get(k) ?? 0) < 2) return k;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    return `${k}[${n}]`;
  });
}

function quote(v: string): string {
  return v.includes("'") ? `"${v}"` : `'${v}'`;
}

function documentTree(doc: XDocument): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const root = doc.documentElement;
  if (root) defineEntry(out, root.nodeName, elementTree(root));
  return out;
}

function elementTree(el: XElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const attr of Array.from(el.attributes as ArrayLike<{ name: string; value: string }>)) {
    defineEntry(out, `@${attr.name}`, attr.value);
  }
  const children = elementChildren(el);
  if (children.length === 0) {
    const text = childList(el)
      .filter((n) => n.nodeType === TEXT || n.nodeType === CDATA)
      .map((n) => n.nodeValue ?? '')
      .join('');
    if (text !== '') out['#text'] = text;
  }
  childKeys(children).forEach((k, i) => {
    defineEntry(out, k, elementTree(children[i] as XElement));
  });
  return out;
}

function pathId(path: readonly PathKey[]): string {
  return JSON.stringify(path);
}

/** Every element by its key path, taken before any edit so positions do not shift. */
function indexElements(doc: XDocument): Map<string, XElement> {
  const map = new Map<string, XElement>();
  const walk = (parent: XElement | XDocument, path: string[]) => {
    const children = elementChildren(parent);
    childKeys(children).forEach((k, i) => {
      const el = children[i] as XElement;
      map.set(pathId([...path, k]), el);
      walk(el, [...path, k]);
    });
  };
  const root = doc.documentElement;
  if (root) {
    map.set(pathId([root.nodeName]), root);
    walk(root, [root.nodeName]);
  }
  return map;
}

function applyElementEdit(
  op: 'set' | 'add' | 'delete',
  path: PathKey[],
  doc: XDocument,
  mine: Map<string, XElement>,
  theirsDoc: XDocument,
  vendor: Map<string, XElement>,
): void {
  const id = pathId(path);
  const current = mine.get(id);
  if (op === 'delete') {
    if (current) removeWithIndent(current);
    return;
  }
  const source = vendor.get(id);
  if (!source) return;
  const copy = doc.importNode(source, true) as XElement;
  if (op === 'set' && current) {
    current.parentNode?.replaceChild(copy, current);
    mine.set(id, copy);
    return;
  }
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? doc : mine.get(pathId(parentPath));
  const vendorParent = parentPath.length === 0 ? theirsDoc : vendor.get(pathId(parentPath));
  if (!parent || !vendorParent) return;
  // The vendor's indentation before the element, and after it the customer's next sibling.
  const prevText = source.previousSibling;
  const indent =
    prevText && prevText.nodeType === TEXT && /^\s*$/.test(prevText.nodeValue ?? '')
      ? doc.createTextNode(prevText.nodeValue ?? '')
      : undefined;
  const anchor = findAnchor(source, parentPath, mine);
  if (anchor) {
    const next = anchor.nextSibling;
    if (indent) parent.insertBefore(indent, next);
    parent.insertBefore(copy, next);
  } else {
    const first = elementChildren(parent)[0];
    const lead = first?.previousSibling;
    const before = lead && lead.nodeType === TEXT ? lead : (first ?? null);
    if (before) {
      parent.insertBefore(copy, before);
      if (indent) parent.insertBefore(indent, copy);
    } else {
      if (indent) parent.appendChild(indent);
      parent.appendChild(copy);
    }
  }
  mine.set(id, copy);
}

/** The customer's element matching the nearest element sibling before `source` in the vendor file. */
function findAnchor(
  source: XElement,
  parentPath: PathKey[],
  mine: Map<string, XElement>,
): XElement | undefined {
  const parent = source.parentNode as XElement | XDocument | null;
  if (!parent) return undefined;
  const siblings = elementChildren(parent);
  const keys = childKeys(siblings);
  for (let i = siblings.indexOf(source) - 1; i >= 0; i--) {
    const hit = mine.get(pathId([...parentPath, keys[i] as string]));
    if (hit?.parentNode) return hit;
  }
  return undefined;
}

function removeWithIndent(el: XElement): void {
  const parent = el.parentNode;
  if (!parent) return;
  const prev = el.previousSibling;
  if (prev && prev.nodeType === TEXT && /^\s*$/.test(prev.nodeValue ?? ''))
    parent.removeChild(prev);
  parent.removeChild(el);
}

/** `/Server/Service[@name='Catalina']/Connector[@port='8443']/@protocol`. */
export function xpathOf(path: readonly PathKey[]): string {
  return `/${path
    .map((k) => {
      const s = String(k);
      if (s === '#text') return 'text()';
      return s;
    })
    .join('/')}`;
}
