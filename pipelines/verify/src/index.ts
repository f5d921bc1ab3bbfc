// @shipgate/verify: the `verify` step — Prometheus checks on a fixed schedule after a deploy, a
// passed / failed / inconclusive verdict, and injected rollbacks on failure. Its pure parts (schedule
// and verdict, template quoting, check evaluation, PromQL syntax) are exported for the doors and tests.
export { baselineBound, describeLimits, evaluateCheck } from './checks.js';
export type { CheckLimits, CheckOutcome, CheckStatus, Measurement } from './checks.js';
export { verifyInputs } from './inputs.js';
export type { VerifyInputs } from './inputs.js';
export { PrometheusClient, measurementFromResponse, prometheusAuthFromEnv } from './prometheus.js';
export type { PrometheusAuth, PrometheusClientOptions } from './prometheus.js';
export { promqlSyntaxError } from './promql.js';
export type { PromqlSyntaxError } from './promql.js';
export { rollbackDetail } from './record.js';
export type { CodeDeployRollbackRequest, CodePipelineRollbackRequest, ImageRollbackRequest, RollbackOutcome, Rollbacks } from './rollback.js';
export { evaluationOffsets, evaluationStatus, initialVerdictState, nextVerdictState, rollbackDeadlineMs } from './schedule.js';
export type { ScheduleOptions, Verdict, VerdictState } from './schedule.js';
export { createVerifyStep, prepareChecks, scheduleOf, verifyStep } from './step.js';
export type { VerifyStepOptions } from './step.js';
export { renderEvaluationMarkdown, renderEvaluationTable } from './table.js';
export { substituteTemplate, templateVariablesOf } from './template.js';
export type { TemplateVariables } from './template.js';
export { runVerification } from './verify.js';
export type { Evaluation, FailingCheck, PreparedCheck, VerificationResult } from './verify.js';
