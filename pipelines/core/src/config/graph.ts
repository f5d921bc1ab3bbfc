// The `needs` graph as validation sees it: cycles (each reported once, at the `needs:` entry that
// closes it) and which steps run before a given one. Linear time and no recursion, so a
// 20,000-step chain or a 700-step complete graph validates in milliseconds instead of crashing.

export interface ClosingNeed {
  /** The cycle as steps, each needing the next: `a → c → b → a`. */
  readonly cycle: readonly string[];
  /** The step whose `needs:` entry closes the cycle, and that entry's position in its list. */
  readonly step: string;
  readonly needIndex: number;
}

/** Strongly connected components (Tarjan, iterative), as a component number per step. */
function components(ids: readonly string[], needsOf: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let components = 0;
  for (const root of ids) {
    if (index.has(root)) continue;
    const work: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const needs = needsOf.get(frame.id) ?? [];
      if (frame.next < needs.length) {
        const need = needs[frame.next]!;
        frame.next += 1;
        if (!needsOf.has(need)) continue;
        if (!index.has(need)) {
          index.set(need, counter);
          low.set(need, counter);
          counter += 1;
          stack.push(need);
          onStack.add(need);
          work.push({ id: need, next: 0 });
        } else if (onStack.has(need)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(need)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        for (;;) {
          const member = stack.pop()!;
          onStack.delete(member);
          component.set(member, components);
          if (member === frame.id) break;
        }
        components += 1;
      }
    }
  }
  return component;
}

/** One cycle per group of steps that depend on each other, found by a depth-first walk inside it. */
export function findCycles(ids: readonly string[], needsOf: ReadonlyMap<string, readonly string[]>): ClosingNeed[] {
  const component = components(ids, needsOf);
  const sizes = new Map<number, number>();
  for (const c of component.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  const reported = new Set<number>();
  const found: ClosingNeed[] = [];
  for (const id of ids) {
    const c = component.get(id)!;
    if (reported.has(c)) continue;
    const selfLoop = (needsOf.get(id) ?? []).indexOf(id);
    if (sizes.get(c) === 1 && selfLoop === -1) continue;
    reported.add(c);
    found.push(selfLoop !== -1 ? { cycle: [id, id], step: id, needIndex: selfLoop } : walkToCycle(id, c, component, needsOf));
  }
  return found;
}

function walkToCycle(start: string, c: number, component: ReadonlyMap<string, number>, needsOf: ReadonlyMap<string, readonly string[]>): ClosingNeed {
  const position = new Map<string, number>([[start, 0]]);
  const path: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
  const done = new Set<string>();
  while (path.length > 0) {
    const frame = path[path.length - 1]!;
    const needs = needsOf.get(frame.id) ?? [];
    if (frame.next >= needs.length) {
      path.pop();
      position.delete(frame.id);
      done.add(frame.id);
      continue;
    }
    const needIndex = frame.next;
    const need = needs[needIndex]!;
    frame.next += 1;
    if (component.get(need) !== c || done.has(need)) continue;
    const at = position.get(need);
    if (at !== undefined) return { cycle: [...path.slice(at).map((f) => f.id), need], step: frame.id, needIndex };
    position.set(need, path.length);
    path.push({ id: need, next: 0 });
  }
  // unreachable: every step of a strongly connected group lies on a cycle through `start`
  return { cycle: [start, start], step: start, needIndex: 0 };
}

/** `a → b → c → … (4,744 more) → z → a`: a cycle of thousands of steps stays one line. */
export function cycleText(cycle: readonly string[], max = 8): string {
  if (cycle.length <= max + 1) return cycle.join(' → ');
  const head = cycle.slice(0, Math.ceil(max / 2));
  const tail = cycle.slice(cycle.length - Math.floor(max / 2));
  return [...head, `… (${(cycle.length - head.length - tail.length).toLocaleString('en-US')} more)`, ...tail].join(' → ');
}

/**
 * Whether `ancestor` runs before `id` (is among its needs, their needs, …). A walk from `id` that
 * stops at the first hit: most reads name a direct need, so a 20,000-step chain whose steps read
 * their predecessor checks in linear time and memory (sets of every step's upstream were quadratic).
 */
export function runsBefore(needsOf: ReadonlyMap<string, readonly string[]>, ancestor: string, id: string): boolean {
  const direct = needsOf.get(id) ?? [];
  if (direct.includes(ancestor)) return true;
  const seen = new Set<string>([id]);
  const stack = [...direct];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === ancestor) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const m of needsOf.get(n) ?? []) if (!seen.has(m)) stack.push(m);
  }
  return false;
}
