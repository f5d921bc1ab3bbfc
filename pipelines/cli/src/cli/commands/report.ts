// `shipgate report <report.json | dir>... [-o dir]`: report.html from run reports that already
// exist — one run again, or several merged into one waterfall (the Jenkins library's per-step
// branches, the jobs of an exported workflow). A directory stands for its report.json, or, when
// it has none, for the report.json of each of its subdirectories.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ShipgateError } from '@shipgate/protocol';
import { renderHtmlReport } from '@shipgate/core';
import { mergeRunReports, type ReportToMerge } from '@shipgate/core';
import type { RunReport } from '@shipgate/core';
import type { CommandRegistrar } from '@shipgate/protocol';
import { writeOutputFile } from '../output-file.js';

/** report.json files a path stands for. */
function reportFiles(given: string): string[] {
  if (!existsSync(given)) throw new ShipgateError('report.not-found', `${given}: no such file or directory`, { hint: 'give a report.json, or the directory shipgate run wrote it to (.shipgate, or --report-dir)' });
  if (!given.endsWith('.json')) {
    const own = path.join(given, 'report.json');
    if (existsSync(own)) return [own];
    const nested = readdirSync(given, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(given, e.name, 'report.json'))
      .filter((f) => existsSync(f))
      .sort();
    if (nested.length === 0) throw new ShipgateError('report.not-found', `${given}: no report.json in it or in its subdirectories`, { hint: 'run shipgate run first; it writes report.json to .shipgate/ (or --report-dir)' });
    return nested;
  }
  return [given];
}

async function readReport(file: string, shown: string): Promise<RunReport> {
  let report: RunReport;
  try {
    report = JSON.parse(await readFile(file, 'utf8')) as RunReport;
  } catch (error) {
    throw new ShipgateError('report.invalid', `${shown}: not a shipgate run report (${(error as Error).message})`, { hint: 'give the report.json that shipgate run wrote' });
  }
  if (report?.schemaVersion !== 1 || !Array.isArray(report.invocations)) {
    throw new ShipgateError('report.invalid', `${shown}: not a shipgate run report (schemaVersion ${String(report?.schemaVersion)})`, { hint: 'give the report.json that shipgate run wrote' });
  }
  return report;
}

export const registerReportCommand: CommandRegistrar = (program, io, setExitCode) => {
  program
    .command('report')
    .description('write report.html from run reports: one run again, or several runs merged into one waterfall')
    .argument('<reports...>', 'report.json files, or directories holding one (or whose subdirectories each hold one)')
    .option('-o, --out <dir>', 'where report.html goes (default: the directory of the only report, else the current one)')
    .option('--name <pipeline>', 'the pipeline name on the page (default: that of the first report)')
    .addHelpText('after', '\nExamples:\n  shipgate report .shipgate\n  shipgate report .shipgate/jenkins -o .shipgate/jenkins     # one page for every step of a Jenkins build\n\nExit codes: 0 written, 2 no report found or not a run report.')
    .action(async (given: string[], opts: { out?: string; name?: string }) => {
      const files = given.flatMap((g) => reportFiles(path.resolve(io.cwd, g)));
      const outDir = path.resolve(io.cwd, opts.out ?? (files.length === 1 ? path.dirname(files[0]!) : '.'));
      const parts: ReportToMerge[] = [];
      for (const file of files) {
        const relativeDir = path.relative(outDir, path.dirname(file)).split(path.sep).join('/') || '.';
        parts.push({ report: await readReport(file, path.relative(io.cwd, file) || file), relativeDir });
      }
      const merged = mergeRunReports(parts, opts.name);
      const html = path.join(outDir, 'report.html');
      await writeOutputFile(html, renderHtmlReport(merged), opts.out ? path.join(opts.out, 'report.html') : path.relative(io.cwd, html) || html);
      io.stderr.write(`report: ${path.relative(io.cwd, html) || html} (${merged.invocations.length} invocations from ${files.length} ${files.length === 1 ? 'report' : 'reports'})\n`);
      setExitCode(0);
    });
};
