// Exporting a pipeline to the engines teams already run: a GitHub Actions workflow (a job per
// step), a Jenkinsfile over the shipgate shared library, a CodeBuild batch buildspec (a build
// graph). Each exporter is a pure function of the loaded PipelineSpec and its options.
export { exportGitHubWorkflow, shipgateActions } from './github.js';
export type { GitHubExportOptions } from './github.js';
export { exportJenkinsfile } from './jenkins.js';
export type { JenkinsExportOptions } from './jenkins.js';
export { exportCodeBuildBuildspec } from './codebuild.js';
export type { CodeBuildExportOptions } from './codebuild.js';
export type { ExportResult, ExportTarget } from './common.js';
