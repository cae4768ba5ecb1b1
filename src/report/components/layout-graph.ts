import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel, type Point } from '@dagrejs/dagre';
import type { GraphModel } from '../model.ts';

export interface LaidOutGraph {
  width: number;
  height: number;
  nodes: (GraphModel['nodes'][number] & { x: number; y: number; w: number; h: number })[];
  edges: (GraphModel['edges'][number] & { points: { x: number; y: number }[] })[];
}

// Widths of a character of the label (12px, bold) and the note (10px), generous for any sans font.
const charWidth = 8;
const noteCharWidth = 6.2;
const nodeHeight = 44;

/**
 * Lays the graph out with dagre (layered, deterministic, no DOM): left to right while the path is
 * short enough to read across a printed page, top to bottom beyond that.
 */
export function layoutGraph(graph: GraphModel): LaidOutGraph {
  const g = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>({
    multigraph: true,
  });
  g.setGraph({
    rankdir: graph.nodes.length > 6 ? 'TB' : 'LR',
    nodesep: 24,
    ranksep: 48,
    edgesep: 12,
    marginx: 8,
    marginy: 8,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const note = `${n.note ?? ''}${n.illustrative ? ' (illustrative)' : ''}`;
    const text = Math.max(n.label.length * charWidth, note.length * noteCharWidth);
    g.setNode(n.id, { width: Math.ceil(text) + 24, height: nodeHeight });
  }
  graph.edges.forEach((e, i) => {
    // The chosen path weighs most, so dagre keeps it straight.
    g.setEdge(e.from, e.to, { weight: e.kind === 'chosen' ? 4 : 1, minlen: 1 }, String(i));
  });
  dagre.layout(g);
  const label = g.graph();
  return {
    width: Math.ceil(label.width ?? 0),
    height: Math.ceil(label.height ?? 0),
    nodes: graph.nodes.map((n) => {
      const p = g.node(n.id);
      return { ...n, x: p.x, y: p.y, w: p.width, h: p.height };
    }),
    edges: graph.edges.map((e, i) => ({
      ...e,
      points: (
        (g.edge({ v: e.from, w: e.to, name: String(i) }) as EdgeLabel | undefined)?.points ?? []
      ).map((p: Point) => ({ x: p.x, y: p.y })),
    })),
  };
}
