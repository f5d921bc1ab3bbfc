// Coverage from an lcov tracefile (what jest --coverage, c8, nyc, Istanbul write): per file, the
// hit count of every instrumented line. Pure over the file's text.

/** file (as written after SF:) → line number → hits. */
export type LineCoverage = Map<string, Map<number, number>>;

export function parseLcov(text: string): LineCoverage {
  const files: LineCoverage = new Map();
  let current: Map<number, number> | undefined;
  // a large monorepo's tracefile has millions of DA lines: indexOf and slices, no per-line arrays
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('DA:')) {
      if (!current) continue;
      const comma = line.indexOf(',', 3);
      if (comma === -1) continue;
      const n = Number(line.slice(3, comma));
      const end = line.indexOf(',', comma + 1); // an optional checksum follows the hits
      const h = Number(line.slice(comma + 1, end === -1 ? undefined : end));
      if (Number.isInteger(n) && Number.isFinite(h)) {
        const before = current.get(n);
        current.set(n, before === undefined || h > before ? h : before);
      }
    } else if (line.startsWith('SF:')) {
      const file = line.slice(3).trim();
      current = files.get(file) ?? new Map();
      files.set(file, current);
    } else if (line.trim() === 'end_of_record') {
      current = undefined;
    }
  }
  return files;
}

export interface CoverageTotals {
  lines: number;
  covered: number;
  /** Percentage (0–100), undefined when nothing was instrumented. */
  percent: number | undefined;
}

function totals(lines: number, covered: number): CoverageTotals {
  return { lines, covered, percent: lines === 0 ? undefined : (covered / lines) * 100 };
}

/** Line coverage over every file of the tracefile. */
export function overallCoverage(coverage: LineCoverage): CoverageTotals {
  let lines = 0;
  let covered = 0;
  for (const hits of coverage.values()) {
    for (const h of hits.values()) {
      lines += 1;
      if (h > 0) covered += 1;
    }
  }
  return totals(lines, covered);
}

/**
 * Line coverage over the changed lines only (Sonar's "coverage on new code"). `changed` maps the
 * same file keys as `coverage` (the caller normalises paths) to the changed line numbers; changed
 * lines that are not instrumented (comments, types, blank lines) do not count.
 */
export function changedLinesCoverage(coverage: LineCoverage, changed: ReadonlyMap<string, ReadonlySet<number>>): CoverageTotals {
  let lines = 0;
  let covered = 0;
  for (const [file, changedLines] of changed) {
    const hits = coverage.get(file);
    if (!hits) continue;
    for (const n of changedLines) {
      const h = hits.get(n);
      if (h === undefined) continue;
      lines += 1;
      if (h > 0) covered += 1;
    }
  }
  return totals(lines, covered);
}
