// Jenkins: answer a pipeline's `input` step (proceed or abort) and start a rollback job, over
// Jenkins' REST API. Jenkins wants a CSRF crumb from /crumbIssuer/api/json on every POST, tied to
// the session cookie it sets, so the cookie goes back with the POST. Basic auth: a user and an API
// token (JENKINS_USER, JENKINS_API_TOKEN), sent only under the Jenkins roots the operator lists in
// JENKINS_URL (see origins.ts).
import type { ApprovalBackend } from '../approvals/model.js';
import { trustedJenkinsRoot, untrustedJenkinsUrl, withSlash } from './origins.js';
import { BackendError, retryableStatus, type BackendResult, type DecisionBackend, type RollbackBackend } from './types.js';

export interface JenkinsOptions {
  user?: string | undefined;
  apiToken?: string | undefined;
  /** JENKINS_URL: the Jenkins roots the app trusts (comma-separated). Build and job URLs must lie under one. */
  rootUrl?: string | undefined;
  fetch?: typeof fetch;
}

function roots(options: JenkinsOptions): string[] {
  return (options.rootUrl ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(withSlash);
}

/** The configured Jenkins root (JENKINS_URL, comma-separated) that a build or job URL lies under, or undefined. */
export function jenkinsRoot(url: string, rootUrl: string | undefined): string | undefined {
  return trustedJenkinsRoot(url, roots({ rootUrl }));
}

/** The root to talk to for `url`; refuses (for good) a URL outside JENKINS_URL before any request is made. */
function rootFor(url: string, options: JenkinsOptions): string {
  const root = jenkinsRoot(url, options.rootUrl);
  if (!root) throw new BackendError(`refused to call Jenkins: ${untrustedJenkinsUrl(url, roots(options))}`, false);
  return root;
}

async function call(url: string, init: RequestInit, options: JenkinsOptions, signal: AbortSignal): Promise<Response> {
  const doFetch = options.fetch ?? fetch;
  try {
    return await doFetch(url, { ...init, signal, redirect: 'manual' });
  } catch (error) {
    throw new BackendError(`Jenkins at ${new URL(url).origin} did not answer: ${(error as Error).message}`, true, { cause: error });
  }
}

/** Headers for a POST: basic auth, and the crumb with its session cookie. */
async function postHeaders(root: string, options: JenkinsOptions, signal: AbortSignal): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (options.user && options.apiToken) headers.authorization = `Basic ${Buffer.from(`${options.user}:${options.apiToken}`).toString('base64')}`;
  const res = await call(`${root}crumbIssuer/api/json`, { headers }, options, signal);
  if (res.status === 404) return headers; // CSRF protection is off on this Jenkins
  if (!res.ok) throw new BackendError(`Jenkins crumb issuer answered ${res.status}`, retryableStatus(res.status));
  const body = (await res.json()) as { crumbRequestField?: string; crumb?: string };
  if (!body.crumbRequestField || !body.crumb) throw new BackendError('Jenkins crumb issuer answered without a crumb', false);
  headers[body.crumbRequestField] = body.crumb;
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]).filter(Boolean);
  if (cookies.length) headers.cookie = cookies.join('; ');
  return headers;
}

export function jenkinsDecisionBackend(options: JenkinsOptions): DecisionBackend<'jenkins'> {
  return async (backend: Extract<ApprovalBackend, { kind: 'jenkins' }>, _approval, notice): Promise<BackendResult> => {
    const build = withSlash(backend.buildUrl);
    const root = rootFor(build, options);
    const headers = await postHeaders(root, options, notice.signal);
    const verb = notice.verdict === 'approved' ? 'proceedEmpty' : 'abort';
    // Jenkins capitalises an input step's id (InputStep.setId), and its URLs use that form
    const inputId = backend.inputId.charAt(0).toUpperCase() + backend.inputId.slice(1);
    const url = `${build}input/${encodeURIComponent(inputId)}/${verb}`;
    const res = await call(url, { method: 'POST', headers }, options, notice.signal);
    // 404: the build is no longer waiting on this input (answered already, or the build ended):
    // nothing left to tell, and telling again must not fail the decision
    if (res.status === 404) return { detail: `Jenkins input ${inputId} was no longer waiting (${build})` };
    if (res.status >= 400) throw new BackendError(`Jenkins ${verb} on ${build} answered ${res.status}`, retryableStatus(res.status));
    return { detail: `Jenkins input ${inputId}: ${verb === 'abort' ? 'aborted' : 'proceeded'} (${build})` };
  };
}

/**
 * Rollback by a Jenkins job (`rollback: { kind: jenkins, jobUrl }`): starts it with SERVICE,
 * ENVIRONMENT, VERSION (to go back to), DIGEST, FROM_VERSION, REQUESTED_BY and REASON as parameters — the
 * shared library's `shipgateRollback` reads VERSION, ENVIRONMENT and REASON (Jenkins ignores the others
 * unless the job declares them).
 */
export function jenkinsRollbackBackend(options: JenkinsOptions): RollbackBackend<'jenkins'> {
  return {
    kind: 'jenkins',
    async rollback(spec, request) {
      const job = withSlash(spec.jobUrl);
      const headers = await postHeaders(rootFor(job, options), options, request.signal);
      const params = new URLSearchParams({
        SERVICE: request.from.service,
        ENVIRONMENT: request.from.environment,
        VERSION: request.to.version,
        DIGEST: request.to.digest ?? '',
        FROM_VERSION: request.from.version,
        REQUESTED_BY: request.requestedBy,
        // shipgateRollback keeps REASON with the deployment record it writes
        REASON: `rollback from ${request.from.version} requested in Slack by ${request.requestedBy}`,
      });
      const res = await call(`${job}buildWithParameters`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() }, options, request.signal);
      if (res.status >= 400) throw new BackendError(`Jenkins rollback job ${job} answered ${res.status}`, retryableStatus(res.status));
      const queued = res.headers.get('location');
      return { detail: `Jenkins job ${job} started for ${request.to.version}${queued ? ` (queue ${queued})` : ''}` };
    },
  };
}
