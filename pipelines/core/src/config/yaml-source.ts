// Checks on the YAML document itself, before it becomes plain data: what the `yaml` package
// accepts but a pipeline must not hold. Duplicate keys (named with both lines), aliases used as keys,
// `__proto__` keys (JavaScript objects would drop them), aliases that name no anchor or the node
// they sit in, nesting too deep and alias expansion too large (the bound against alias bombs).
// One iterative pass, so no document can exhaust the stack.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { configLimits } from '@shipgate/protocol';

export interface ProblemSink {
  add(code: string, message: string, offset: number, hint?: string): void;
}

const startOf = (node: unknown): number => (node as Node | null)?.range?.[0] ?? 0;

/** Marks the end of an anchored node on the walk's stack, to size it once its subtree is counted. */
class Leave {
  constructor(
    readonly node: Node,
    readonly countAtStart: number,
  ) {}
}

export function checkYamlStructure(doc: Document, sink: ProblemSink, lineOf: (offset: number) => number): void {
  // Values after expanding aliases, counted in one pass in document order: an alias adds the size
  // of its anchor, which is complete by then (an anchor still open is an alias inside itself).
  // Only anchored nodes are sized, so a file without anchors allocates almost nothing here.
  const anchorSizes = new Map<Node, number>();
  let count = 0;
  let tooDeep = false;
  const nodes: unknown[] = [doc.contents];
  const depths: number[] = [0];
  for (let guard = 0; nodes.length > 0 && guard < 50_000_000; guard += 1) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node instanceof Leave) {
      anchorSizes.set(node.node, count - node.countAtStart);
      continue;
    }
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      const size = target ? anchorSizes.get(target) : undefined;
      if (!target) sink.add('config.yaml', `*${node.source} names no anchor: write &${node.source} on a value above it`, startOf(node));
      else if (size === undefined) sink.add('config.yaml', `*${node.source} sits inside the value it names, so it would never end`, startOf(node));
      count += size ?? 1;
      continue;
    }
    count += 1;
    if (depth > configLimits.maxDepth) {
      if (!tooDeep) sink.add('config.too-deep', `mappings and lists are nested more than ${configLimits.maxDepth} levels deep here`, startOf(node), 'a pipeline never needs this; is part of the file repeated?');
      tooDeep = true;
      continue;
    }
    if ((node as Node).anchor) {
      nodes.push(new Leave(node as Node, count - 1));
      depths.push(depth);
    }
    if (isMap(node)) {
      checkKeys(node.items, sink, lineOf);
      // reversed, so the walk visits keys and values in document order
      for (let i = node.items.length - 1; i >= 0; i -= 1) {
        const pair = node.items[i]!;
        nodes.push(pair.value, pair.key);
        depths.push(depth + 1, depth + 1);
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i -= 1) {
        nodes.push(node.items[i]);
        depths.push(depth + 1);
      }
    }
  }
  if (count > configLimits.maxNodes) {
    sink.add(
      'config.too-large',
      `the file expands to ${count > 1e9 ? 'over a billion' : count.toLocaleString('en-US')} values once its aliases are resolved (at most ${configLimits.maxNodes.toLocaleString('en-US')})`,
      firstAlias(doc),
      'aliases that nest other aliases multiply: use fewer levels, or write the values out',
    );
  }
}

function childrenOf(node: unknown): unknown[] {
  if (isMap(node) || isSeq(node)) return node.items.flatMap((item) => (isPair(item) ? [item.key, item.value] : [item]));
  return [];
}

function checkKeys(items: readonly unknown[], sink: ProblemSink, lineOf: (offset: number) => number): void {
  const seen = new Map<string, number>();
  for (const item of items) {
    if (!isPair(item)) continue;
    const key = item.key;
    if (isAlias(key)) {
      sink.add('config.alias-key', `an alias (*${key.source}) cannot be a key: write the key itself`, startOf(key));
      continue;
    }
    if (key !== null && !isScalar(key)) {
      sink.add('config.type', 'a key must be plain text, not a mapping or a list', startOf(key));
      continue;
    }
    const name = String(isScalar(key) ? key.value : '');
    if (name === '__proto__') {
      sink.add('config.reserved-key', '"__proto__" cannot be a key (it is not kept as data): rename it', startOf(key));
      continue;
    }
    const first = seen.get(name);
    if (first !== undefined) {
      sink.add('config.duplicate-key', `duplicate key "${name}" on line ${lineOf(startOf(key))}: it is already set on line ${lineOf(first)}`, startOf(key), 'a key may appear once per mapping: remove or rename one');
    } else {
      seen.set(name, startOf(key));
    }
  }
}

function firstAlias(doc: Document): number {
  const stack: unknown[] = [doc.contents];
  for (let guard = 0; stack.length > 0 && guard < 1_000_000; guard += 1) {
    const node = stack.pop();
    if (isAlias(node)) return startOf(node);
    stack.push(...childrenOf(node).reverse());
  }
  return 0;
}
