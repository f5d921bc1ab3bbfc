// @shipgate/aws: the steps that talk to AWS (CodeDeploy, CodePipeline) and the CodeBuild executor.
export { CodeBuildExecutor, sourceDirectoryOf } from './codebuild/executor.js';
export type { CodeBuildExecutorOptions } from './codebuild/executor.js';
export { defaultInstallCommands, shellWord } from './codebuild/request.js';
export { rollbackCodeDeploy } from './codedeploy/rollback.js';
export { codedeployStep } from './codedeploy/index.js';
export { codepipelineStep } from './codepipeline/index.js';
export { answerCodePipelineApproval, rollbackCodePipelineStage } from './codepipeline/pipeline.js';
export { awsCircuitBreaker } from './sdk/index.js';
export type { RetryOptions as AwsRetryOptions } from './sdk/call.js';
