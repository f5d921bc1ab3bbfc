// Deploy records (deployments.jsonl and the Slack app's /api/deployments).
export { recordDeployment, readDeployments, deployerFrom, deploymentRecordSchema, deploymentNoticeSchema, rollbackRefSchema, deploymentOutcomes, deploymentsFileName } from './record.js';
export type { DeploymentRecord, DeploymentNotice, DeploymentOutcome, RollbackRef, RecordDeploymentOptions, RecordDeploymentResult } from './record.js';
