// The example workflows in actions/README.md are checked the way GitHub checks a workflow file
// (@actions/workflow-parser: schema and conversion), and every shipgate action they use is given
// only inputs its action.yml declares, and all the inputs it requires.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';

const actionsDir = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(actionsDir, 'README.md'), 'utf8');
const workflows = [...readme.matchAll(/```yaml\n(name: [\s\S]*?)```/g)].map((m) => m[1]!);

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}

describe('actions/README.md example workflows', () => {
  it('there are two: deploy and rollback', () => {
    expect(workflows.map((w) => (parse(w) as { name: string }).name)).toEqual(['deploy', 'rollback']);
  });

  it.each(workflows.map((w, i) => [i === 0 ? 'deploy' : 'rollback', w]))('%s parses and converts with GitHub\'s workflow parser', async (_name, content) => {
    const parsed = parseWorkflow({ name: '.github/workflows/example.yml', content }, new NoOperationTraceWriter());
    const errors = parsed.context.errors.getErrors().map((e) => e.message);
    if (parsed.value) errors.push(...((await convertWorkflowTemplate(parsed.context, parsed.value)).errors ?? []).map((e) => e.Message));
    expect(errors).toEqual([]);
  });

  it.each(workflows.map((w, i) => [i === 0 ? 'deploy' : 'rollback', w]))('%s gives each shipgate action only declared inputs, and every required one', (_name, content) => {
    const jobs = (parse(content) as { jobs: Record<string, { steps: Step[] }> }).jobs;
    const uses = Object.values(jobs).flatMap((j) => j.steps).filter((s) => s.uses?.startsWith('acme/shipgate/actions/'));
    expect(uses.length).toBeGreaterThan(2);
    for (const step of uses) {
      const name = /^acme\/shipgate\/actions\/([\w-]+)@v1$/.exec(step.uses!)?.[1];
      expect(name).toBeDefined();
      const yml = parse(readFileSync(path.join(actionsDir, name!, 'action.yml'), 'utf8')) as { inputs: Record<string, { required?: boolean }> };
      const given = Object.keys(step.with ?? {});
      expect([name, given.filter((k) => !(k in yml.inputs))]).toEqual([name, []]);
      const required = Object.entries(yml.inputs).filter(([, v]) => v.required).map(([k]) => k);
      expect([name, required.filter((k) => !given.includes(k))]).toEqual([name, []]);
    }
  });
});
