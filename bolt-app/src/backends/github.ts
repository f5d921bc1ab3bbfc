// GitHub Actions: review a run's pending deployments (environments with required reviewers).
// POST /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments with the environment IDs,
// approved or rejected, and a comment. The token's user must be one of the environment's reviewers.
import type { ApprovalBackend } from '../approvals/model.js';
import { BackendError, retryableStatus, type BackendResult, type DecisionBackend } from './types.js';

export interface GitHubOptions {
  token?: string | undefined;
  /** GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3). */
  apiUrl?: string | undefined;
  fetch?: typeof fetch;
}

export function githubDecisionBackend(options: GitHubOptions): DecisionBackend<'github'> {
  return async (backend: Extract<ApprovalBackend, { kind: 'github' }>, _approval, notice): Promise<BackendResult> => {
    if (!options.token) throw new BackendError('GITHUB_TOKEN is not set: cannot review the pending deployment', false);
    const api = (options.apiUrl ?? 'https://api.github.com').replace(/\/$/, '');
    const url = `${api}/repos/${backend.repository}/actions/runs/${backend.runId}/pending_deployments`;
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(url, {
        method: 'POST',
        signal: notice.signal,
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'content-type': 'application/json' },
        body: JSON.stringify({ environment_ids: backend.environmentIds, state: notice.verdict, comment: notice.comment }),
      });
    } catch (error) {
      throw new BackendError(`GitHub API did not answer: ${(error as Error).message}`, true, { cause: error });
    }
    // 422: nothing is pending for these environments any more (reviewed already, or the run ended)
    if (res.status === 422) return { detail: `GitHub run ${backend.repository}#${backend.runId}: no deployment was pending any more` };
    if (!res.ok) throw new BackendError(`GitHub pending_deployments for ${backend.repository} run ${backend.runId} answered ${res.status}`, retryableStatus(res.status));
    return { detail: `GitHub run ${backend.repository}#${backend.runId}: deployment ${notice.verdict} (environments ${backend.environmentIds.join(', ')})` };
  };
}
