// A small client for the OCI distribution API (the HTTP API every registry speaks: distribution,
// Docker Hub, ECR, GHCR, Harbor …): manifests by tag or digest, blob existence, cross-repository
// mounts and uploads, tag listing. Enough to re-point tags without pulling or pushing layers.
//
// This class is the one door; each concern has its own file: `requests.ts` (bounded requests with
// retries, over `transport.ts`), `authorizer.ts` (401 challenges, tokens), `manifests.ts` (reads
// revalidated with If-None-Match, writes), `blobs.ts` (exists, mount, upload, copy), `tags.ts`.
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import { copyBlob, hasBlob, mountBlob, uploadBlob } from './blobs.js';
import type { CallOptions } from './http.js';
import { findManifest, headManifest, putManifest, type Manifest, type ManifestDescriptor } from './manifests.js';
import { RegistryRequests, type RegistryClientOptions } from './requests.js';
import { listTags } from './tags.js';

export type { FetchFunction } from './transport.js';
export type { RegistryClientOptions } from './requests.js';
export { manifestMediaTypes, sha256Digest } from './manifests.js';
export type { Manifest, ManifestDescriptor, ManifestJson } from './manifests.js';

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly #http: RegistryRequests;

  constructor(options: RegistryClientOptions) {
    this.#http = new RegistryRequests(options);
    this.registry = this.#http.registry;
    this.baseUrl = this.#http.baseUrl;
  }

  /** Reads a manifest (image, index, or artifact) by tag or digest. Throws `registry.not-found` when absent. */
  async getManifest(repository: string, reference: string, options: CallOptions = {}): Promise<Manifest> {
    const found = await this.findManifest(repository, reference, options);
    if (!found) {
      throw new ShipgateError('registry.not-found', `${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference} does not exist`, {
        exitCode: ExitCode.external,
        hint: 'check the repository and tag (skopeo list-tags docker://REGISTRY/REPOSITORY lists the tags)',
      });
    }
    return found;
  }

  /**
   * Reads a manifest, or undefined when the tag or digest does not exist. A manifest this process
   * read or wrote before is asked for with `If-None-Match`: the registry answers 304 without a
   * body when the tag still points at the same digest.
   */
  findManifest(repository: string, reference: string, options: CallOptions = {}): Promise<Manifest | undefined> {
    return findManifest(this.#http, repository, reference, options);
  }

  /** The descriptor a tag or digest resolves to (HEAD: no body), or undefined when absent. */
  headManifest(repository: string, reference: string, options: CallOptions = {}): Promise<ManifestDescriptor | undefined> {
    return headManifest(this.#http, repository, reference, options);
  }

  /** Stores manifest bytes under a tag (or its digest). Returns the digest. */
  putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, options: CallOptions = {}): Promise<string> {
    return putManifest(this.#http, repository, reference, bytes, mediaType, options);
  }

  hasBlob(repository: string, digest: string, options: CallOptions = {}): Promise<boolean> {
    return hasBlob(this.#http, repository, digest, options);
  }

  /**
   * Asks the registry to link a blob of `from` into `repository` without moving bytes. True when it
   * did (201); false when it opened an upload instead (202), which is then cancelled.
   */
  mountBlob(repository: string, digest: string, from: string, options: CallOptions = {}): Promise<boolean> {
    return mountBlob(this.#http, repository, digest, from, options);
  }

  /** Uploads a blob in one request after opening the upload (POST, then PUT with the digest). */
  uploadBlob(repository: string, digest: string, body: Buffer | ReadableStream<Uint8Array>, size: number, options: CallOptions = {}): Promise<void> {
    return uploadBlob(this.#http, repository, digest, body, size, options);
  }

  /** Copies a blob between repositories of this registry by streaming it through this process. */
  copyBlob(from: string, repository: string, descriptor: { digest: string; size: number }, options: CallOptions = {}): Promise<void> {
    return copyBlob(this.#http, from, repository, descriptor, options);
  }

  /** Every tag of the repository, page after page ([] when the repository does not exist). */
  listTags(repository: string, options: CallOptions = {}): Promise<string[]> {
    return listTags(this.#http, repository, options);
  }
}
