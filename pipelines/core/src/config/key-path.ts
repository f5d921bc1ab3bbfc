// A path of keys and list indexes into the pipeline (`['steps', 'build', 'with', 'files', 0]`): how
// checks name a place, both in messages (`steps.build.with.files[0]`) and to find its position.
export type Path = readonly (string | number)[];

/** The path as written in messages: `steps.build.needs[1]`. */
export function pathText(p: Path): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** The plain value at `p` inside `root`, or undefined when the path leads nowhere. */
export function valueAt(root: unknown, p: Path): unknown {
  let v = root;
  for (const s of p) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s as string] : undefined;
  return v;
}

/** Strings inside a value, with their paths, for expression checks. */
export function* stringsIn(value: unknown, p: Path): Generator<[string, Path]> {
  if (typeof value === 'string') yield [value, p];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...p, i]);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...p, k]);
}
