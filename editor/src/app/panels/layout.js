// A top-down layered layout for a flow's graph (Sugiyama's scheme, small): edges that
// go back up (a menu's `repeat`, a loop) are set aside, every other node sits one layer
// below the lowest node leading to it, edges longer than one layer pass through
// invisible points so they bend round the nodes between, the nodes of a layer are
// ordered to cross fewer edges, and each is placed under the nodes leading to it.
// Pure: sizes in, positions out; the drawing is `diagram.js`'s.

const LAYER_GAP = 48; // vertical space between layers, room for an edge's label
const NODE_GAP = 28; // horizontal space between neighbours in a layer
const DUMMY_WIDTH = 12; // a long edge's passage through a layer
const MARGIN = 16;
const LANE_GAP = 16; // between the lanes of edges going back up, right of the nodes
const SWEEPS = 6;

// `nodes`: [{id, width, height}] (the first is the flow's entry); `edges`: [{from, to,
// label}]. Returns {width, height, nodes: Map(id → {x, y, width, height}), edges:
// [{from, to, label, back, points: [[x, y], ...], labelAt: [x, y]}]}.
export function layout(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const usable = joinParallel(edges.filter((e) => known.has(e.from) && known.has(e.to)));
  const back = backEdges(ids, usable);
  const forward = usable.filter((e) => !back.has(e));

  const layerOf = layers(ids, forward);
  const size = new Map(nodes.map((n) => [n.id, { width: n.width, height: n.height }]));

  // Long forward edges pass through one invisible point per layer they cross.
  const chains = new Map(); // edge → the ids it passes through, source to target
  const vertex = new Map(ids.map((id) => [id, { id, layer: layerOf.get(id), ...size.get(id), dummy: false }]));
  const links = []; // one-layer steps: [upper id, lower id]
  let dummies = 0;
  for (const e of forward) {
    const chain = [e.from];
    for (let l = layerOf.get(e.from) + 1; l < layerOf.get(e.to); l++) {
      const id = `\u0000dummy${dummies++}`;
      vertex.set(id, { id, layer: l, width: DUMMY_WIDTH, height: 0, dummy: true });
      chain.push(id);
    }
    chain.push(e.to);
    chains.set(e, chain);
    for (let i = 1; i < chain.length; i++) links.push([chain[i - 1], chain[i]]);
  }

  const rows = order(vertex, links, ids);
  const { tops, bottoms } = rowTops(rows, vertex);
  placeX(rows, vertex, links);

  // Normalise so the leftmost box starts at the margin.
  let minX = Infinity;
  let maxX = -Infinity;
  for (const v of vertex.values()) {
    minX = Math.min(minX, v.x);
    maxX = Math.max(maxX, v.x + v.width);
  }
  const shift = MARGIN - minX;
  for (const v of vertex.values()) v.x += shift;
  maxX += shift;

  const placed = new Map(ids.map((id) => {
    const v = vertex.get(id);
    return [id, { x: v.x, y: v.y, width: v.width, height: v.height }];
  }));

  const out = [];
  // Edges leaving one node start spread over its bottom, in the order of where they go,
  // so their labels do not sit on each other.
  const ports = bottomPorts(forward, chains, vertex);
  for (const e of forward) {
    const chain = chains.get(e);
    const points = [ports.get(e)];
    for (const id of chain.slice(1, -1)) {
      const d = vertex.get(id);
      points.push([d.x + d.width / 2, d.y]);
    }
    const t = vertex.get(e.to);
    points.push([t.x + t.width / 2, t.y]);
    // Half way along the first segment: where the curve from the source passes.
    const [a, b] = [points[0], points[1]];
    out.push({ ...e, back: false, points, labelAt: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] });
  }

  // Edges back up cross no box: down into the gap under the source's layer, right to
  // a lane of their own beyond every box, up to the gap over the target's layer, and
  // down into the target.
  let lane = maxX + LANE_GAP;
  usable
    .filter((x) => back.has(x))
    .forEach((e, i) => {
      const s = vertex.get(e.from);
      const t = vertex.get(e.to);
      const offset = 8 + (i % 4) * 5;
      const below = bottoms[s.layer] + offset;
      const above = tops[t.layer] - offset;
      const sx = s.x + s.width * 0.85;
      const tx = t.x + t.width * 0.85;
      const points = [
        [sx, s.y + s.height],
        [sx, below],
        [lane, below],
        [lane, above],
        [tx, above],
        [tx, t.y],
      ];
      out.push({ ...e, back: true, points, labelAt: [lane + 4, (below + above) / 2] });
      lane += LANE_GAP;
    });

  const bottom = bottoms.length ? bottoms[bottoms.length - 1] : 0;
  return { width: lane + MARGIN, height: bottom + LAYER_GAP / 2 + MARGIN, nodes: placed, edges: out };
}

// Edges between the same two nodes drawn as one, their labels joined (`0, retries 3`
// both leading to the operator), so two labels never sit on the same line.
function joinParallel(edges) {
  const byPair = new Map();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`;
    const seen = byPair.get(key);
    if (!seen) byPair.set(key, { ...e });
    else if (e.label) seen.label = seen.label ? `${seen.label}, ${e.label}` : e.label;
  }
  return [...byPair.values()];
}

// The edges that close a cycle, found by a depth-first walk from the entry (then from
// any node not reached, in the order given): an edge to a node still on the walk's path.
function backEdges(ids, edges) {
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from).push(e);
  const state = new Map(); // 1 on the path, 2 done
  const back = new Set();
  for (const root of ids) {
    if (state.has(root)) continue;
    // Iterative, so a long flow cannot overflow the stack.
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [id, i] = top;
      const list = out.get(id);
      if (i >= list.length) {
        state.set(id, 2);
        stack.pop();
        continue;
      }
      top[1] = i + 1;
      const e = list[i];
      const s = state.get(e.to);
      if (s === 1) back.add(e);
      else if (s === undefined) {
        state.set(e.to, 1);
        stack.push([e.to, 0]);
      }
    }
  }
  return back;
}

// Longest path from the sources over the forward edges (which form no cycle).
function layers(ids, forward) {
  const incoming = new Map(ids.map((id) => [id, 0]));
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of forward) {
    incoming.set(e.to, incoming.get(e.to) + 1);
    out.get(e.from).push(e.to);
  }
  const layer = new Map(ids.map((id) => [id, 0]));
  const ready = ids.filter((id) => incoming.get(id) === 0);
  while (ready.length) {
    const id = ready.shift();
    for (const to of out.get(id)) {
      layer.set(to, Math.max(layer.get(to), layer.get(id) + 1));
      incoming.set(to, incoming.get(to) - 1);
      if (incoming.get(to) === 0) ready.push(to);
    }
  }
  return layer;
}

// Each layer's vertices, ordered: first as met walking the graph, then by the mean
// position of their neighbours, sweeping down and up.
function order(vertex, links, ids) {
  const count = Math.max(0, ...[...vertex.values()].map((v) => v.layer)) + 1;
  const rows = Array.from({ length: count }, () => []);
  const up = new Map([...vertex.keys()].map((id) => [id, []]));
  const down = new Map([...vertex.keys()].map((id) => [id, []]));
  for (const [a, b] of links) {
    down.get(a).push(b);
    up.get(b).push(a);
  }
  // First order: breadth-first from the nodes as given, so the entry's branches keep
  // the order the plan writes them in (menu keys 1, 2, 3 left to right).
  const seen = new Set();
  const queue = [...ids.filter((id) => up.get(id).length === 0)];
  for (const id of queue) seen.add(id);
  while (queue.length) {
    const id = queue.shift();
    rows[vertex.get(id).layer].push(id);
    for (const next of down.get(id)) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  for (const id of vertex.keys()) if (!seen.has(id)) rows[vertex.get(id).layer].push(id);

  const position = new Map();
  const index = () => rows.forEach((row) => row.forEach((id, i) => position.set(id, i)));
  index();
  // A vertex with no neighbours on the other side keeps its place; the others are
  // sorted by the mean place of their neighbours into the places left. (Mixing the two
  // kinds of number in one sort would shuffle a menu's keys for no reason.)
  const sortBy = (row, neighbours) => {
    const key = new Map();
    for (const id of row) {
      const ns = neighbours.get(id);
      if (ns.length) key.set(id, ns.reduce((s, n) => s + position.get(n), 0) / ns.length);
    }
    // Stable: ties keep the order they had.
    const moving = row.filter((id) => key.has(id)).sort((a, b) => key.get(a) - key.get(b));
    let next = 0;
    for (let i = 0; i < row.length; i++) if (key.has(row[i])) row[i] = moving[next++];
    row.forEach((id, i) => position.set(id, i));
  };
  for (let s = 0; s < SWEEPS; s++) {
    if (s % 2 === 0) for (let l = 1; l < rows.length; l++) sortBy(rows[l], up);
    else for (let l = rows.length - 2; l >= 0; l--) sortBy(rows[l], down);
  }
  index();
  return rows;
}

// Sets each vertex's y; returns where each layer's boxes start and end.
function rowTops(rows, vertex) {
  const tops = [];
  const bottoms = [];
  let y = MARGIN;
  for (const row of rows) {
    const tallest = Math.max(0, ...row.map((id) => vertex.get(id).height));
    for (const id of row) {
      const v = vertex.get(id);
      v.y = y + (tallest - v.height) / 2;
    }
    tops.push(y);
    bottoms.push(y + tallest);
    y += tallest + LAYER_GAP;
  }
  return { tops, bottoms };
}

// Horizontal places: packed left to right first, then each vertex pulled towards the
// mean centre of its neighbours above (sweeping down) and below (sweeping up), keeping
// the layer's order and gaps.
function placeX(rows, vertex, links) {
  const up = new Map([...vertex.keys()].map((id) => [id, []]));
  const down = new Map([...vertex.keys()].map((id) => [id, []]));
  for (const [a, b] of links) {
    down.get(a).push(b);
    up.get(b).push(a);
  }
  const widest = Math.max(0, ...rows.map((row) => rowWidth(row, vertex)));
  for (const row of rows) {
    let x = (widest - rowWidth(row, vertex)) / 2;
    for (const id of row) {
      vertex.get(id).x = x;
      x += vertex.get(id).width + NODE_GAP;
    }
  }
  const centre = (id) => vertex.get(id).x + vertex.get(id).width / 2;
  for (let s = 0; s < SWEEPS; s++) {
    const downward = s % 2 === 0;
    const order = downward ? rows.keys() : [...rows.keys()].reverse();
    for (const l of order) {
      const row = rows[l];
      const neighbours = downward ? up : down;
      const wanted = row.map((id) => {
        const ns = neighbours.get(id);
        const v = vertex.get(id);
        return ns.length ? ns.reduce((sum, n) => sum + centre(n), 0) / ns.length - v.width / 2 : v.x;
      });
      fit(row, wanted, vertex);
    }
  }
}

// Puts each vertex of `row` as near its wanted x as the order and gaps allow: left to
// right pushing right, then right to left pulling back what was pushed too far.
function fit(row, wanted, vertex) {
  const xs = wanted.slice();
  for (let i = 1; i < row.length; i++) {
    const prev = vertex.get(row[i - 1]);
    xs[i] = Math.max(xs[i], xs[i - 1] + prev.width + NODE_GAP);
  }
  for (let i = row.length - 2; i >= 0; i--) {
    const v = vertex.get(row[i]);
    xs[i] = Math.min(xs[i], xs[i + 1] - v.width - NODE_GAP);
  }
  // The right-to-left pass can squeeze the left ones together again: settle it.
  for (let i = 1; i < row.length; i++) {
    const prev = vertex.get(row[i - 1]);
    xs[i] = Math.max(xs[i], xs[i - 1] + prev.width + NODE_GAP);
  }
  row.forEach((id, i) => {
    vertex.get(id).x = xs[i];
  });
}

function rowWidth(row, vertex) {
  return row.reduce((w, id) => w + vertex.get(id).width, 0) + NODE_GAP * Math.max(0, row.length - 1);
}

function bottomPorts(forward, chains, vertex) {
  const bySource = new Map();
  for (const e of forward) {
    if (!bySource.has(e.from)) bySource.set(e.from, []);
    bySource.get(e.from).push(e);
  }
  const ports = new Map();
  for (const [from, list] of bySource) {
    const s = vertex.get(from);
    const towards = (e) => {
      const next = vertex.get(chains.get(e)[1]);
      return next.x + next.width / 2;
    };
    list.sort((a, b) => towards(a) - towards(b));
    list.forEach((e, i) => {
      const share = list.length === 1 ? 0.5 : 0.2 + (0.6 * i) / (list.length - 1);
      ports.set(e, [s.x + s.width * share, s.y + s.height]);
    });
  }
  return ports;
}
