// jest globalTeardown: drops this run's clones and stops the server the harness started.
/** Drops the run's clones and stops what the global set-up started. */
export default async function globalTeardown(): Promise<void> {
  const prepared = globalThis.__shipgateTestHarness;
  globalThis.__shipgateTestHarness = undefined;
  await prepared?.stop();
}
