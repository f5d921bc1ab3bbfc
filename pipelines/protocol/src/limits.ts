// The bounds every shipgate.yml is held to, so no file (a typo, a mutation, a hostile pull request)
// can crash, hang or flood a run: each one is an error with file:line:col, documented in the
// pipelines README ("Limits"). They sit far above any real pipeline.

export const configLimits = {
  /** Bytes of shipgate.yml read at most (a 20,000-step chain written in flow style is 0.75 MiB). */
  maxFileBytes: 1024 * 1024,
  /** YAML nodes after expanding aliases: the bound against alias bombs ("billion laughs"). */
  maxNodes: 1_000_000,
  /** Nesting of mappings and lists. */
  maxDepth: 64,
  /** Combinations of one step's matrix (GitHub Actions allows 256 jobs per matrix). */
  maxMatrixCombinations: 256,
  /** `timeout:` and every duration input: 7 days, well inside a timer's 2^31-1 ms (24.8 days). */
  maxDurationMs: 7 * 24 * 3_600_000,
  /** Problems printed by one validation; the rest are counted in a last line. */
  maxProblems: 50,
  /** Names listed in one hint (`steps: a, b, c, … and 4,990 more`). */
  maxNamesInHint: 8,
  /** Characters of one message or hint. */
  maxMessageChars: 400,
} as const;

/** `a, b, c, … and 4,990 more`: a hint never lists every one of thousands of names. */
export function listNames(names: readonly string[], max: number = configLimits.maxNamesInHint): string {
  if (names.length === 0) return '(none)';
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')}, … and ${(names.length - max).toLocaleString('en-US')} more`;
}

/**
 * Text fit to print once: control characters and invalid UTF-16 escaped (binary input is never
 * echoed raw to a terminal), and long text elided in the middle.
 */
export function printable(text: string, max: number = configLimits.maxMessageChars): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) =>
    c.charCodeAt(0) > 0xff ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  ).replace(/[\n\t]/g, (c) => (c === '\n' ? '\\n' : '\\t'));
  if (escaped.length <= max) return escaped;
  const half = Math.floor((max - 1) / 2);
  return `${escaped.slice(0, half)}…${escaped.slice(escaped.length - half)}`;
}
