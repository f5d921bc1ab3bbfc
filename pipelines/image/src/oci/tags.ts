// Listing a repository's tags over the distribution API, following `Link: <…>; rel="next"` pages.
import type { CallOptions } from './http.js';
import type { RegistryRequests } from './requests.js';

/** At most this many pages: a registry that keeps sending Link headers cannot loop us forever. */
const maxPages = 100;

/** The `rel="next"` URL of a Link header, if any. */
export function nextPage(link: string | null): string | undefined {
  return /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1];
}

/** Every tag of the repository ([] when the repository does not exist). */
export async function listTags(http: RegistryRequests, repository: string, options: CallOptions = {}): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
  for (let page = 0; next && page < maxPages; page += 1) {
    const response = await http.request({ method: 'GET', path: next, repository, accept: [200, 404], ...options });
    if (response.status === 404) return [];
    const body = (await response.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    next = nextPage(response.headers.get('link'));
  }
  return tags;
}
