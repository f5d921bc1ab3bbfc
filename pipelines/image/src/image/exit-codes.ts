// The exit codes the image step's errors stand for, for doors that run the step and report its
// outcome as a process exit code (`shipgate image …`). A step's result carries an error's code,
// not the exit code the error was thrown with, so the codes live here, beside the errors they name.
import { ExitCode } from '@shipgate/protocol';

/** Errors that are the outside world's: the registry, ECR, docker reporting no digest. */
const external = new Set(['image.ecr-login', 'image.no-digest']);
/** Errors that mean the work ran and did not succeed: docker failed or was stopped, nothing to roll back to. */
const failed = new Set(['image.cancelled', 'image.docker-failed', 'image.no-rollback-target']);

/** `registry.*` and ECR → 3; a failed build or nothing to roll back to → 1; any other `image.*` (bad input, immutable tag) → 2. */
export function imageErrorExitCode(code: string): number | undefined {
  if (code.startsWith('registry.') || external.has(code)) return ExitCode.external;
  if (failed.has(code)) return ExitCode.failed;
  if (code.startsWith('image.')) return ExitCode.usage;
  return undefined;
}
