// Position lookup: the offset in the YAML source of a path of keys, so every problem can point at
// file:line:col (at the key for an unknown key, at the value for a wrong one, inside a string for
// an expression).
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Path } from './key-path.js';

/**
 * Positions in the YAML source for a path of keys. Each mapping's keys are indexed on first use:
 * looking a step up by scanning its mapping made validation quadratic (a 20,000-step chain took 40 s).
 */
export class Positions {
  readonly #index = new WeakMap<object, Map<string, Pair>>();

  constructor(private readonly doc: Document) {}

  private pairOf(map: YAMLMap, key: string): Pair | undefined {
    let index = this.#index.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      this.#index.set(map, index);
    }
    return index.get(key);
  }

  private node(p: Path): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const segment of p) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) node = this.pairOf(node, String(segment))?.value;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    return (node ?? undefined) as Node | undefined;
  }

  value(p: Path): number | undefined {
    return this.node(p)?.range?.[0];
  }

  /** The key node of the last segment (for unknown keys), else the value, else the nearest parent. */
  key(p: Path): number {
    let parent: unknown = p.length ? this.node(p.slice(0, -1)) : this.doc.contents;
    if (isAlias(parent)) parent = parent.resolve(this.doc);
    if (parent && isMap(parent)) {
      const pair = this.pairOf(parent, String(p[p.length - 1]));
      if (pair) return (pair.key as Node).range?.[0] ?? 0;
    }
    return this.nearest(p);
  }

  nearest(p: Path): number {
    for (let n = p.length; n >= 0; n -= 1) {
      const offset = n === 0 ? (this.doc.contents as Node | null)?.range?.[0] : this.value(p.slice(0, n));
      if (offset !== undefined) return offset;
    }
    return 0;
  }

  /** Offset of the `index`-th `${{` inside the value at p, so an expression error points into the string. */
  expression(p: Path, index: number, source: string): number {
    const range = this.node(p)?.range;
    if (!range) return this.nearest(p);
    let at = range[0] - 1;
    for (let k = 0; k <= index; k += 1) {
      at = source.indexOf('${{', at + 1);
      if (at === -1 || at > range[1]) return range[0];
    }
    return at;
  }
}
