// Masks secret values in every line a step prints, before it reaches a reporter, a report or a log.
const minLength = 4; // shorter values would mask ordinary words and numbers

export class SecretMasker {
  readonly #values = new Set<string>();
  #pattern: RegExp | undefined;

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  add(value: string): void {
    // A multi-line secret (a PEM key) is masked line by line too, as it will be printed line by line.
    for (const part of [value, ...value.split(/\r?\n/)]) {
      const trimmed = part.trim();
      if (trimmed.length >= minLength && !this.#values.has(trimmed)) {
        this.#values.add(trimmed);
        this.#pattern = undefined;
      }
    }
  }

  get size(): number {
    return this.#values.size;
  }

  mask(text: string): string {
    if (this.#values.size === 0) return text;
    this.#pattern ??= new RegExp(
      [...this.#values]
        .sort((a, b) => b.length - a.length) // longest first, so a secret containing another is masked whole
        .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.#pattern, '***');
  }
}

/** Environment variable names whose values are treated as secrets and masked in every line. */
export const secretNamePattern = /(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASS|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|SECRET_ACCESS_KEY|CREDENTIALS?|AUTH)(?:_|$)/i;

/**
 * The secret values of an environment: variables whose names look secret (`SLACK_BOT_TOKEN`,
 * `DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, …) and those listed by name in `SHIPGATE_SECRETS`
 * (comma-separated), so a step can never print them, even by accident.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const named = new Set((env.SHIPGATE_SECRETS ?? '').split(',').map((n) => n.trim()).filter(Boolean));
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && value.trim().length >= minLength && (named.has(name) || secretNamePattern.test(name)))
    .map(([, value]) => value!);
}
