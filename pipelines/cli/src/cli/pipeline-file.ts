// Loading the shipgate.yml a command acts on (-C / -f), with its warnings on stderr in the same
// `file:line:col: warning: …` shape as its errors.
import path from 'node:path';
import type { Command } from 'commander';
import { findPipelineFile, loadPipeline, type PipelineSpec } from '@shipgate/core';
import type { CliIO, StepRegistry } from '@shipgate/protocol';
import { pipelineLocation } from './options.js';

export async function loadCommandPipeline(command: Command, io: CliIO, registry: StepRegistry): Promise<PipelineSpec> {
  const { directory, file } = pipelineLocation(command, io);
  const found = findPipelineFile(directory, file);
  return loadPipeline(found, { registry, displayFile: path.relative(io.cwd, found) || found, onWarning: (w) => io.stderr.write(`${w.format().replace(/^(\S+:\d+:\d+: )/, '$1warning: ')}\n`) });
}
