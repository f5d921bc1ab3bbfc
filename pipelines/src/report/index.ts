// Reports of a run: live reporters for people and CI logs, and the files a run leaves behind.
export { RunReportBuilder } from './run-report.js';
export type { RunReport, InvocationReport } from './run-report.js';
export { renderJUnit } from './junit.js';
export { writeRunReports, lastRunDurations } from './write.js';
export { createReporter, chooseReporterKind, colourlessEnv, PlainReporter, GitHubReporter, TtyReporter } from './reporters.js';
export type { Reporter, ReporterKind, ReporterOptions } from './reporters.js';
export { formatDuration } from './format.js';
export { renderMarkdownSummary, appendMarkdownSummary } from './markdown.js';
