// @shipgate/core: shipgate.yml (config and expressions), the plan, the scheduler, the local executor,
// the step cache and the run reports. No cloud SDK: steps that talk to AWS, registries, Sonar or Slack
// live in their own packages, and the CLI composes them.
export { lastSuccessfulOutputs } from './cache/keys.js';
export { commitTimeOf, detectCiContext, resolveCiContext } from './ci/detect.js';
export { findExpressions } from './config/expressions.js';
export { findPipelineFile, loadPipeline, parsePipeline, pipelineJsonSchema } from './config/index.js';
export type { CodeBuildExecutorConfig, PipelineSpec, StepSpec } from './config/model.js';
export { codebuildProjectPattern } from './config/schema.js';
export { readDeployments, recordDeployment } from './deployments/index.js';
export type { DeploymentOutcome, RollbackRef } from './deployments/index.js';
export { deployerFrom } from './deployments/record.js';
export { computeDora, defaultDoraWindowMs, defaultFixForwardMs, parseDoraWindow } from './deployments/dora.js';
export type { DoraDeployment, DoraMetrics, DoraOptions, DoraReport, DurationSummary } from './deployments/dora.js';
export type { DeploymentRecord } from './deployments/record.js';
export { fetchDeployments } from './deployments/app-history.js';
export { formatDoraDuration, formatDoraTable } from './deployments/dora-table.js';
export { LocalExecutor, runStepInProcess } from './executors/local.js';
export { buildInvocation, matrixEnvName } from './plan/invocation.js';
export { expandMatrix, invocationId } from './plan/matrix.js';
export { criticalPath, planPipeline } from './plan/plan.js';
export type { Plan, PlanNode } from './plan/plan.js';
export { SecretMasker, secretNamePattern, secretsFromEnv } from './process/secrets.js';
export { formatDuration } from './report/format.js';
export { planFormats, renderPlanDot, renderPlanMermaid } from './report/graph.js';
export type { PlanFormat, PlanGraph } from './report/graph.js';
export { RunReportBuilder, chooseReporterKind, createReporter, renderHtmlReport, writeRunReports } from './report/index.js';
export type { ReporterKind, RunReport } from './report/index.js';
export { LogFileWriter } from './report/log-files.js';
export { appendMarkdownSummary } from './report/markdown.js';
export { mergeRunReports } from './report/merge.js';
export type { ReportToMerge } from './report/merge.js';
export { colourlessEnv } from './report/reporters.js';
export { sendRunReport } from './report/send.js';
export { lastRunDurations } from './report/durations.js';
export { runStep } from './run-step/index.js';
export type { RunEvent, RunEventListener } from './scheduler/events.js';
export { runPipeline } from './scheduler/run-pipeline.js';
export type { RunOptions, RunResult } from './scheduler/run-pipeline.js';
