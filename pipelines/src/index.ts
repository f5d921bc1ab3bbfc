// @shipgate/pipelines — the public surface. Doors (CLI, actions, Jenkins, Slack app) and teams that
// embed shipgate import from here only.
export { ShipgateError, ExitCode, isShipgateError, errorMessage } from './errors.js';
export type { SourceLocation, ExitCodeValue, ShipgateErrorOptions } from './errors.js';
export { defineStep } from './steps/define.js';
export type {
  StepDefinition,
  StepContext,
  StepLogger,
  ProcessRunner,
  ExecOptions,
  ExecResult,
  CiContext,
} from './steps/define.js';
export { StepRegistry, builtinSteps, defaultRegistry } from './steps/registry.js';
export type { PipelineSpec, StepSpec, MatrixSpec, MatrixValue, MatrixCombination, CacheSpec } from './config/model.js';
export type {
  Executor,
  StepInvocation,
  InvocationResult,
  InvocationStatus,
  ExecutionEnvironment,
} from './executors/executor.js';
