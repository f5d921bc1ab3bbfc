// From text to plain data, with positions kept: YAML syntax errors, then the checks on the
// document itself (duplicate keys, aliases, depth, expansion size), then conversion to JavaScript
// values. Each stage stops at its own problems, since the next would only repeat them.
import { LineCounter, parseDocument } from 'yaml';
import { ShipgateError } from '@shipgate/protocol';
import { Positions } from './positions.js';
import { Problems } from './problems.js';
import { checkYamlStructure } from './yaml-source.js';

export interface PipelineDocument {
  /** The file as plain data; never null or undefined (an empty file is an error). */
  readonly raw: unknown;
  readonly problems: Problems;
  readonly pos: Positions;
}

function yamlErrorCode(code: string): string {
  if (code === 'DUPLICATE_KEY') return 'config.duplicate-key';
  if (code === 'RESOURCE_EXHAUSTION') return 'config.too-deep';
  return 'config.yaml';
}

/** Parses `text` as YAML and converts it to data, or throws every problem of the first stage that has any. */
export function readDocument(text: string, displayFile: string): PipelineDocument {
  const lineCounter = new LineCounter();
  // duplicate keys are found by checkYamlStructure, which names both lines
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problems = new Problems(displayFile, lineCounter);
  for (const error of doc.errors) {
    const message = error.code === 'RESOURCE_EXHAUSTION' ? 'mappings and lists are nested too deep to read' : error.message.split('\n')[0]!;
    problems.add(yamlErrorCode(error.code), message, error.pos[0]);
  }
  problems.throwIfAny();
  checkYamlStructure(doc, problems, (offset) => lineCounter.linePos(offset).line);
  problems.throwIfAny();
  let raw: unknown;
  try {
    // aliases are bounded above by the expanded size (configLimits.maxNodes), not by their count:
    // one anchor used a hundred times is a plausible pipeline, an alias bomb is not
    raw = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    throw problems.problem('config.yaml', `the file cannot be read as data: ${(error as Error).message}`, 0);
  }
  if (raw === null || raw === undefined) {
    throw new ShipgateError('config.empty', `${displayFile} is empty`, { location: { file: displayFile, line: 1, column: 1 }, hint: 'a pipeline needs at least `name:` and `steps:`' });
  }
  return { raw, problems, pos: new Positions(doc) };
}
