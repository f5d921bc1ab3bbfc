// Blobs over the distribution API: existence, cross-repository mounts (a link, no bytes moved),
// monolithic uploads, and copies streamed through this process when a mount is refused.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { repositoryScope } from './auth.js';
import { discard, type CallOptions } from './http.js';
import type { RegistryRequests } from './requests.js';

export async function hasBlob(http: RegistryRequests, repository: string, digest: string, options: CallOptions = {}): Promise<boolean> {
  const response = await http.request({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}`, repository, accept: [200, 404], ...options });
  return response.status === 200;
}

/**
 * Asks the registry to link a blob of `from` into `repository` without moving bytes. True when it
 * did (201); false when it opened an upload instead (202: mount not possible, e.g. across
 * registries' permission boundaries), which is then cancelled.
 */
export async function mountBlob(http: RegistryRequests, repository: string, digest: string, from: string, options: CallOptions = {}): Promise<boolean> {
  const response = await http.request({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    repository,
    push: true,
    scopes: [repositoryScope(from, false)],
    accept: [201, 202],
    ...options,
  });
  await discard(response);
  if (response.status === 201) return true;
  const location = response.headers.get('location');
  if (location) {
    await http
      .request({ method: 'DELETE', path: http.resolve(location), repository, push: true, accept: [200, 204, 404], ...options })
      .then(discard)
      .catch(() => undefined);
  }
  return false;
}

/** Uploads a blob in one request after opening the upload (POST, then PUT with the digest). */
export async function uploadBlob(http: RegistryRequests, repository: string, digest: string, body: Buffer | ReadableStream<Uint8Array>, size: number, options: CallOptions = {}): Promise<void> {
  const opened = await http.request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/`, repository, push: true, accept: [202], ...options });
  await discard(opened);
  const location = opened.headers.get('location');
  if (!location) throw new ShipgateError('registry.protocol', `${http.registry}: blob upload opened without a Location header`, { exitCode: ExitCode.external });
  const url = new URL(http.resolve(location));
  url.searchParams.set('digest', digest);
  const done = await http.request({
    method: 'PUT',
    path: url.toString(),
    repository,
    push: true,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
    accept: [201],
    retryable: Buffer.isBuffer(body),
    ...options,
  });
  await discard(done);
}

/** Copies a blob between repositories of this registry by streaming it through this process. */
export async function copyBlob(http: RegistryRequests, from: string, repository: string, descriptor: { digest: string; size: number }, options: CallOptions = {}): Promise<void> {
  const source = await http.request({ method: 'GET', path: `/v2/${from}/blobs/${descriptor.digest}`, repository: from, accept: [200], ...options });
  await uploadBlob(http, repository, descriptor.digest, source.body!, descriptor.size, options);
}
