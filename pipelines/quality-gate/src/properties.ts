// Java `.properties` files: `sonar-project.properties` (what the scanner reads) and
// `report-task.txt` (what every Sonar scanner — CLI, Maven, Gradle, .NET — writes after it submits
// an analysis). Both are the java.util.Properties text format, so one small reader serves both.
import { readFile } from 'node:fs/promises';
import { ShipgateError, ExitCode } from '@shipgate/protocol';

function unescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

/** Parses the java.util.Properties text format: `#`/`!` comments, `=`/`:`/space separators, `\` continuations. */
export function parseProperties(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i += 1) {
    let line = physical[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // a line ending in an odd number of backslashes continues on the next one
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < physical.length) {
      i += 1;
      line = line.slice(0, -1) + physical[i]!.replace(/^[ \t\f]+/, '');
    }
    const separator = /^((?:\\.|[^\\:= \t\f])*)[ \t\f]*[:=]?[ \t\f]*/.exec(line)!;
    result[unescape(separator[1]!)] = unescape(line.slice(separator[0].length));
  }
  return result;
}

/** What a scanner wrote about the analysis it submitted. */
export interface ReportTask {
  readonly ceTaskId: string;
  readonly serverUrl: string;
  readonly projectKey?: string;
  readonly dashboardUrl?: string;
  readonly ceTaskUrl?: string;
}

/** Reads report-task.txt. `ceTaskId` and `serverUrl` are required; the rest is optional. */
export function parseReportTask(text: string, file: string): ReportTask {
  const props = parseProperties(text);
  const missing = ['ceTaskId', 'serverUrl'].filter((key) => !props[key]);
  if (missing.length > 0) {
    throw new ShipgateError('quality-gate.report-task-invalid', `${file} has no ${missing.join(' or ')}`, {
      exitCode: ExitCode.usage,
      hint: 'pass the report-task.txt a Sonar scanner wrote (default .scannerwork/report-task.txt; Maven: target/sonar/report-task.txt; Gradle: build/sonar/report-task.txt)',
    });
  }
  return {
    ceTaskId: props.ceTaskId!,
    serverUrl: props.serverUrl!,
    ...(props.projectKey ? { projectKey: props.projectKey } : {}),
    ...(props.dashboardUrl ? { dashboardUrl: props.dashboardUrl } : {}),
    ...(props.ceTaskUrl ? { ceTaskUrl: props.ceTaskUrl } : {}),
  };
}

export async function readReportTask(file: string, displayName = file): Promise<ReportTask> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ShipgateError('quality-gate.report-task-missing', `cannot read ${displayName}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: 'run the Sonar scanner first (it writes .scannerwork/report-task.txt), or pass the path it wrote with --report-task / with.report-task',
    });
  }
  return parseReportTask(text, displayName);
}
