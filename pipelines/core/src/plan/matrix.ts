// Matrix expansion with GitHub Actions' rules, so a matrix means what its readers expect:
// the product of the axes, minus `exclude` (partial matches remove every match), then `include`
// (extends each combination it does not contradict, else becomes a combination of its own).
import type { MatrixCombination, MatrixSpec, MatrixValue } from '../config/model.js';

export function expandMatrix(spec: MatrixSpec): MatrixCombination[] {
  const axes = Object.entries(spec.axes);
  let combos: Record<string, MatrixValue>[] = axes.length ? [{}] : [];
  for (const [name, values] of axes) {
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [name]: value })));
  }
  combos = combos.filter((combo) => !spec.exclude.some((ex) => Object.entries(ex).every(([k, v]) => combo[k] === v)));

  const original = combos.map((c) => ({ ...c }));
  const extra: Record<string, MatrixValue>[] = [];
  for (const inc of spec.include) {
    let matched = false;
    combos.forEach((combo, i) => {
      // an include never overwrites an original axis value; keys it added before may be overwritten
      const clashes = Object.entries(inc).some(([k, v]) => k in original[i]! && original[i]![k] !== v);
      if (clashes) return;
      Object.assign(combo, inc);
      matched = true;
    });
    if (!matched) extra.push({ ...inc });
  }
  return [...combos, ...extra];
}

/** `build[target=api,node=24]`; the step id alone when there is no matrix. */
export function invocationId(stepId: string, combo?: MatrixCombination): string {
  if (!combo || Object.keys(combo).length === 0) return stepId;
  return `${stepId}[${Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`).join(',')}]`;
}
