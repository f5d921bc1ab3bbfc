// @shipgate/protocol: the contract every shipgate package speaks. The step contract (defineStep),
// invocation and result types and their wire format, errors with codes, durations and other value
// parsers, the plugin contract and the step registry. It imports nothing from shipgate.
export { canonicalJson } from './canonical.js';
export { describedDuration, durationInput, parseDuration } from './duration.js';
export { ExitCode, ShipgateError, errorMessage, isShipgateError } from './errors.js';
export { makeDirectory } from './fs.js';
export { statusOnAbort } from './executor.js';
export type { SourceLocation } from './errors.js';
export type { ExecutionEnvironment, Executor, InvocationResult, InvocationStatus, MatrixCombination, MatrixValue, StepInvocation } from './executor.js';
export type { CliIO } from './io.js';
export { configLimits, listNames, printable } from './limits.js';
export type { CommandRegistrar, ShipgatePlugin } from './plugin.js';
export { StepRegistry } from './step-registry.js';
export { defineStep } from './step.js';
export type { CiContext, ExecOptions, ExecResult, ProcessRunner, StepContext, StepDefinition, StepLogger } from './step.js';
export { closest, didYouMean } from './suggest.js';
export { decodeOutputs, encodeInvocation, encodeOutputs, invocationSchema, outputsMarker } from './wire.js';
