// The "Deploying on AWS" section of the README is tested: its pipelines load, and its IAM policies
// are valid JSON that grant every action the code calls — no more (no wildcard actions).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePipeline } from '../../../core/src/config/index.js';
import { defaultRegistry } from '../../../cli/src/cli/steps.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const start = readme.indexOf('## Deploying on AWS');
const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
const blocks = (lang: string) => [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

interface Statement {
  Action: string | string[];
  Resource: string | string[];
}
const policies = blocks('json')
  .filter((b) => b.includes('"Statement"'))
  .map((b) => JSON.parse(b) as { Version: string; Statement: Statement[] });
const granted = new Set(policies.flatMap((p) => p.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))));

/** The IAM actions the source calls, read from its awsCall sites. */
function calledActions(file: string, prefix: string, pattern: RegExp): string[] {
  const source = readFileSync(path.join(root, file), 'utf8');
  return [...new Set([...source.matchAll(pattern)].map((m) => `${prefix}:${m[1]}`))];
}

describe('README: Deploying on AWS', () => {
  it('has the section', () => {
    expect(start).toBeGreaterThan(-1);
  });

  it.each(blocks('yaml').map((b, i) => [i, b] as const))('pipeline example %i loads and validates', (_i, text) => {
    const spec = parsePipeline(text, 'README.md', { registry: defaultRegistry() });
    expect(spec.steps.length).toBeGreaterThan(0);
  });

  it('policies are IAM JSON with named actions and ARN-scoped resources where IAM allows', () => {
    expect(policies.length).toBeGreaterThanOrEqual(4);
    for (const policy of policies) {
      expect(policy.Version).toBe('2012-10-17');
      for (const statement of policy.Statement) {
        for (const action of [statement.Action].flat()) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]+$/);
        const resources = [statement.Resource].flat();
        // "*" only for the ECS actions that take no resource-level permissions
        if (resources.includes('*')) expect([statement.Action].flat().sort()).toEqual(['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition']);
        else for (const resource of resources) expect(resource).toMatch(/^arn:aws:/);
      }
    }
  });

  it.each([
    ...calledActions('aws/src/codedeploy/deploy.ts', 'codedeploy', /call\(\s*s,\s*'(\w+)'/g),
    ...calledActions('aws/src/codedeploy/rollback.ts', 'codedeploy', /call\(\s*s,\s*'(\w+)'/g),
    ...calledActions('aws/src/codedeploy/deploy.ts', 'ecs', /ecsCall\('(\w+)'/g),
    ...calledActions('aws/src/codepipeline/pipeline.ts', 'codepipeline', /call\(\s*s,\s*'(\w+)'/g),
  ])('a policy grants %s, which the code calls', (action) => {
    expect(granted).toContain(action);
  });
});
