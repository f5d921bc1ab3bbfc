// @shipgate/pipelines — the public surface. Doors (CLI, actions, Jenkins, Slack app) and teams that
// embed shipgate import from here only.
export { ShipgateError, ExitCode, isShipgateError, errorMessage } from './protocol/errors.js';
export type { SourceLocation, ExitCodeValue, ShipgateErrorOptions } from './protocol/errors.js';
export { defineStep } from './protocol/step.js';
export type {
  StepDefinition,
  StepContext,
  StepLogger,
  ProcessRunner,
  ExecOptions,
  ExecResult,
  CiContext,
} from './protocol/step.js';
export { StepRegistry } from './protocol/step-registry.js';
export { builtinSteps, defaultRegistry } from './cli/steps.js';
export type { PipelineSpec, StepSpec, MatrixSpec, MatrixValue, MatrixCombination, CacheSpec } from './config/model.js';
export type {
  Executor,
  StepInvocation,
  InvocationResult,
  InvocationStatus,
  ExecutionEnvironment,
} from './protocol/executor.js';
export { loadPipeline, parsePipeline, findPipelineFile, parseDuration, pipelineJsonSchema, evaluateCondition, interpolate, parseExpression } from './config/index.js';
export type { LoadOptions, ExpressionContext } from './config/index.js';
export { planPipeline, criticalPath } from './engine/plan.js';
export type { Plan, PlanNode, PlanOptions } from './engine/plan.js';
export { runPipeline } from './engine/run.js';
export type { RunOptions, RunResult, InvocationRecord } from './engine/run.js';
export { expandMatrix } from './engine/matrix.js';
export type { RunEvent, RunEventListener, InvocationOutcome } from './engine/events.js';
export { LocalExecutor, runStepInProcess } from './executors/local.js';
export type { RunStepOptions } from './executors/local.js';
export { CodeBuildExecutor } from './executors/codebuild.js';
export type { CodeBuildExecutorOptions } from './executors/codebuild.js';
export type { CodeBuildApi } from './executors/codebuild-api.js';
export type { ExecutorConfig, CodeBuildExecutorConfig, CodeBuildSecretRef } from './config/model.js';
export { exportGitHubWorkflow, exportJenkinsfile, exportCodeBuildBuildspec } from './export/index.js';
export type { GitHubExportOptions, JenkinsExportOptions, CodeBuildExportOptions, ExportResult, ExportTarget } from './export/index.js';
export { detectCiContext, resolveCiContext } from './ci/context.js';
export { RunReportBuilder, renderJUnit, writeRunReports, createReporter, chooseReporterKind, renderHtmlReport, renderMarkdownSummary } from './report/index.js';
export type { RunReport, InvocationReport, Reporter, ReporterKind } from './report/index.js';
export { runCli } from './cli/program.js';
export type { CliIO } from './protocol/io.js';
export { loadPlugins, firstPartyPlugins, type BundledPlugins } from './cli/plugins.js';
export type { ShipgatePlugin, CommandRegistrar } from './protocol/plugin.js';
export { approvalStep, createApprovalStep } from './steps/approval/index.js';
export { slackNotifyStep, createSlackNotifyStep } from './steps/slack-notify/index.js';
export { qualityGateStep, gateErrorExitCodes } from './steps/quality-gate/index.js';
export { waitForQualityGate, SonarClient, gateResultFromSonar, pollDelay } from './steps/quality-gate/sonar-client.js';
export type { WaitForQualityGateOptions, SonarClientOptions, SonarCeTask, SonarProjectStatus, SonarCondition } from './steps/quality-gate/sonar-client.js';
export { evaluateGateCondition, gateStatus } from './steps/quality-gate/conditions.js';
export type { GateCondition, GateResult, GateStatus, GateOperator, ConditionStatus } from './steps/quality-gate/conditions.js';
export { renderConditionsMarkdown, renderConditionsText } from './steps/quality-gate/table.js';
export { parseReportTask, readReportTask } from './steps/quality-gate/properties.js';
export type { ReportTask } from './steps/quality-gate/properties.js';
export { evaluateLocalGate, localGateSchema } from './steps/quality-gate/local/gate.js';
export type { LocalGateConfig, LocalMeasures } from './steps/quality-gate/local/gate.js';
export { parseLcov, overallCoverage, changedLinesCoverage } from './steps/quality-gate/local/lcov.js';
export { parseUnifiedDiff } from './steps/quality-gate/local/diff.js';
export { eslintCounts, jestCounts, jscpdDuplication } from './steps/quality-gate/local/reports.js';
export { computeTags, parseTagRules, parseFlavor, defaultTagRules, promoteImage, rollbackImage, readImageHistory, isImmutableTag, chooseRollbackTarget, imageStep } from './steps/image/index.js';
export type { TagRule, TagRules, TagContext, Flavor, ImageMetadata, PromoteOptions, PromoteResult, RollbackOptions, RollbackResult, HistoryOptions, RegistryAccessOptions, HistoryEntry, ImageHistory } from './steps/image/index.js';
export { RegistryClient, manifestMediaTypes } from './registry/client.js';
export type { RegistryClientOptions, Manifest, ManifestDescriptor, FetchFunction } from './registry/client.js';
export { nodeTransport } from './registry/transport.js';
export { parseImageReference, formatReference } from './registry/reference.js';
export type { ImageReference } from './registry/reference.js';
export type { RegistryCredentials, BasicCredentials, TokenCredentials } from './registry/auth.js';
export { ecrLogin, ecrLoginFor, createEcrClient, parseEcrHost } from './registry/ecr.js';
export type { EcrLogin } from './registry/ecr.js';
export { codedeployStep } from './steps/codedeploy/index.js';
export { deployCodeDeploy, rollbackCodeDeploy } from './steps/codedeploy/deploy.js';
export type { DeployRequest as CodeDeployRequest, DeploymentResult as CodeDeployResult, RollbackRequest as CodeDeployRollbackRequest, RollbackResult as CodeDeployRollbackResult, CodeDeployOptions } from './steps/codedeploy/deploy.js';
export { chooseRollbackTarget as chooseCodeDeployRollbackTarget } from './steps/codedeploy/rollback-target.js';
export { rewriteTaskDefinition, pointImageAt } from './steps/codedeploy/task-definition.js';
export { codepipelineStep } from './steps/codepipeline/index.js';
export { startCodePipeline, answerCodePipelineApproval, rollbackCodePipelineStage } from './steps/codepipeline/pipeline.js';
export type { CodePipelineOptions, ApprovalRequest as CodePipelineApprovalRequest, ApprovalAnswer as CodePipelineApprovalAnswer, StageRollbackRequest as CodePipelineStageRollbackRequest, StageRollbackResult as CodePipelineStageRollbackResult, StartRequest as CodePipelineStartRequest, ExecutionResult as CodePipelineExecutionResult } from './steps/codepipeline/pipeline.js';
export { recordDeployment, readDeployments, deploymentNoticeSchema, deploymentRecordSchema } from './deployments/index.js';
export type { DeploymentRecord, DeploymentNotice, DeploymentOutcome, RollbackRef, RecordDeploymentOptions, RecordDeploymentResult } from './deployments/index.js';
export { awsCircuitBreaker } from './aws/index.js';
export type { AwsClientOptions, AwsCredentials, AwsCredentialsInput, Clock, RetryOptions as AwsRetryOptions } from './aws/index.js';
