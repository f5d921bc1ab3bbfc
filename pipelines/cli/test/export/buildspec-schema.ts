// The keys a CodeBuild buildspec (version 0.2) may have, as the AWS CodeBuild user guide documents
// them ("Build specification reference for CodeBuild" and "Batch build buildspec reference"),
// written as strict zod objects: a key the documentation does not list is an error. Used to check
// what `shipgate export codebuild` and the CodeBuild executor write.
import { z } from 'zod';

const yesNo = z.enum(['yes', 'no']);
const commands = z.array(z.string().min(1));
const phase = z.strictObject({
  'run-as': z.string().optional(),
  'on-failure': z.string().optional(), // ABORT | CONTINUE (and RETRY variants)
  commands: commands.optional(),
  finally: commands.optional(),
});

/** env/ of the buildspec: shell, variables, parameter-store, exported-variables, secrets-manager, git-credential-helper. */
const env = z.strictObject({
  shell: z.string().optional(),
  variables: z.record(z.string(), z.string()).optional(),
  'parameter-store': z.record(z.string(), z.string()).optional(),
  'exported-variables': z.array(z.string()).optional(),
  'secrets-manager': z.record(z.string(), z.string()).optional(),
  'git-credential-helper': yesNo.optional(),
});

/** batch/<type>/env of one task: compute-type, fleet, image, privileged-mode, type, variables. */
const taskEnv = z.strictObject({
  'compute-type': z.string().optional(),
  fleet: z.string().optional(),
  image: z.string().optional(),
  'privileged-mode': z.boolean().optional(),
  type: z.string().optional(),
  variables: z.record(z.string(), z.string()).optional(),
});

const listTask = z.strictObject({
  identifier: z.string().min(1),
  buildspec: z.string().optional(),
  'debug-session': z.boolean().optional(),
  env: taskEnv.optional(),
  'ignore-failure': z.boolean().optional(),
});
const graphTask = listTask.extend({ 'depend-on': z.array(z.string().min(1)).optional() });

const batch = z
  .strictObject({
    'fast-fail': z.boolean().optional(),
    'build-graph': z.array(graphTask).optional(),
    'build-list': z.array(listTask).optional(),
    'build-matrix': z
      .strictObject({
        static: z.strictObject({ 'ignore-failure': z.boolean().optional(), env: taskEnv.omit({ variables: true }).optional() }).optional(),
        dynamic: z.strictObject({ buildspec: z.array(z.string()).optional(), env: z.record(z.string(), z.unknown()).optional() }).optional(),
      })
      .optional(),
    'build-fanout': z.strictObject({ parallelism: z.number().int().positive().optional(), 'ignore-failure': z.boolean().optional() }).optional(),
  })
  .refine((b) => ['build-graph', 'build-list', 'build-matrix', 'build-fanout'].filter((k) => k in b).length <= 1, 'a batch has one type: build-graph, build-list, build-matrix or build-fanout');

export const buildspecSchema = z.strictObject({
  version: z.literal(0.2),
  'run-as': z.string().optional(),
  env: env.optional(),
  proxy: z.strictObject({ 'upload-artifacts': yesNo.optional(), logs: yesNo.optional() }).optional(),
  batch: batch.optional(),
  phases: z.strictObject({
    install: phase.extend({ 'runtime-versions': z.record(z.string(), z.union([z.string(), z.number()])).optional() }).optional(),
    pre_build: phase.optional(),
    build: phase.optional(),
    post_build: phase.optional(),
  }),
  reports: z
    .record(z.string(), z.strictObject({ files: z.array(z.string()), 'base-directory': z.string().optional(), 'discard-paths': yesNo.optional(), 'file-format': z.string().optional() }))
    .optional(),
  artifacts: z
    .strictObject({
      files: z.array(z.string()).optional(),
      name: z.string().optional(),
      'discard-paths': yesNo.optional(),
      'base-directory': z.string().optional(),
      'exclude-paths': z.array(z.string()).optional(),
      'enable-symlinks': yesNo.optional(),
      's3-prefix': z.string().optional(),
      'secondary-artifacts': z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  cache: z.strictObject({ key: z.string().optional(), 'fallback-keys': z.array(z.string()).optional(), action: z.string().optional(), paths: z.array(z.string()).optional() }).optional(),
});

/** The problems of a parsed buildspec, one `path: message` each (empty when it is valid). */
export function buildspecProblems(value: unknown): string[] {
  const result = buildspecSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
