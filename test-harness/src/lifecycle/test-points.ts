// Named moments a test can stop the harness at, to SIGKILL it exactly there and check what the next
// run reaps. Off unless SHIPGATE_TEST_HARNESS_PAUSE names the point: the process that reaches it
// appends one JSON line to SHIPGATE_TEST_HARNESS_PAUSE_FILE and waits (bounded) to be killed.
import { appendFileSync } from 'node:fs';

export type TestPoint = 'clone-created' | 'template-scratch-created';

export async function testPoint(point: TestPoint, detail: Record<string, unknown>): Promise<void> {
  if (process.env.SHIPGATE_TEST_HARNESS_PAUSE !== point) return;
  const file = process.env.SHIPGATE_TEST_HARNESS_PAUSE_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ point, pid: process.pid, ...detail })}\n`);
  await new Promise((r) => setTimeout(r, 120_000)); // the test kills this process long before
}
