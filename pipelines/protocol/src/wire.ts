// The wire format between the engine and a `shipgate step` run elsewhere (CodeBuild, a Jenkins
// agent, an Actions job): the invocation goes in as base64 JSON on the command line, the outputs
// come back as one marked line in the log. Both sides import it from here.
import * as z from 'zod';
import type { StepInvocation } from './executor.js';

export const outputsMarker = '::shipgate-outputs::';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** What `shipgate step --invocation` accepts: a StepInvocation as JSON, nothing more. */
export const invocationSchema = z.strictObject({
  id: z.string().min(1),
  stepId: z.string().min(1),
  uses: z.string().min(1),
  with: z.record(z.string(), z.unknown()),
  env: z.record(z.string(), z.string()),
  workingDirectory: z.string(),
  timeoutMs: z.number().int().positive().optional(),
  matrix: z.record(z.string(), scalar).optional(),
});

/** Encodes an invocation for `--invocation` (base64 of its JSON: safe in any shell and buildspec). */
export function encodeInvocation(invocation: StepInvocation): string {
  return Buffer.from(JSON.stringify(invocation)).toString('base64');
}

/** Reads the outputs a `shipgate step` printed, from its log lines. */
export function decodeOutputs(lines: Iterable<string>): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const line of lines) {
    const at = line.indexOf(outputsMarker);
    if (at !== -1) found = JSON.parse(Buffer.from(line.slice(at + outputsMarker.length).trim(), 'base64').toString('utf8')) as Record<string, string>;
  }
  return found;
}

/** The one log line carrying a step's outputs back (`::shipgate-outputs::<base64 JSON>`). */
export function encodeOutputs(outputs: Readonly<Record<string, string>>): string {
  return `${outputsMarker}${Buffer.from(JSON.stringify(outputs)).toString('base64')}`;
}
