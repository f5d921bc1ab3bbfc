// Reports of a run: live reporters for people and CI logs, and the files a run leaves behind.
export { RunReportBuilder } from './run-report.js';
export type { RunReport, InvocationReport, RunReportOptions } from './run-report.js';
export { renderJUnit } from './junit.js';
export { writeRunReports } from './write.js';
export { lastRunDurations } from './durations.js';
export { createReporter, chooseReporterKind, colourlessEnv, PlainReporter, GitHubReporter, TtyReporter } from './reporters.js';
export type { Reporter, ReporterKind, ReporterOptions } from './reporters.js';
export { formatDuration } from './format.js';
export { renderMarkdownSummary, appendMarkdownSummary } from './markdown.js';
export { renderHtmlReport, escapeHtml } from './html.js';
export { buildTimeline } from './timeline.js';
export type { Timeline, TimelineRow } from './timeline.js';
export { renderGantt } from './gantt.js';
export { LogFileWriter, logFileNames } from './log-files.js';
export { renderPlanMermaid, renderPlanDot, planFormats } from './graph.js';
export type { PlanGraph, PlanFormat } from './graph.js';
export { mergeRunReports } from './merge.js';
