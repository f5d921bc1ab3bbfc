// Amazon ECR log-in: GetAuthorizationToken hands out a base64 `AWS:<password>` valid for 12 hours
// for the registry `https://<account>.dkr.ecr.<region>.amazonaws.com`. The same credentials serve
// `docker login` (build and push) and the registry HTTP API (Basic auth) for promote and rollback.
//
// Least privilege: `ecr:GetAuthorizationToken` on `*` (it is not resource-scoped), plus on the
// repository ARN `ecr:BatchGetImage`, `ecr:BatchCheckLayerAvailability`, `ecr:PutImage`
// (re-pointing tags), and for pushes `ecr:InitiateLayerUpload`, `ecr:UploadLayerPart`,
// `ecr:CompleteLayerUpload`.
import type { ECRClient } from '@aws-sdk/client-ecr';
import { ExitCode, ShipgateError } from '@shipgate/protocol';
import type { BasicCredentials } from './auth.js';

export interface EcrLogin extends BasicCredentials {
  /** The registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  registry: string;
  expiresAt?: Date;
}

/** Calls GetAuthorizationToken and decodes the first authorization it returns. */
export async function ecrLogin(client: Pick<ECRClient, 'send'>, options: { registryIds?: string[]; signal?: AbortSignal } = {}): Promise<EcrLogin> {
  // loaded on first use: the AWS SDK is heavy, and most shipgate commands never talk to ECR
  const { GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  let output;
  try {
    output = await client.send(new GetAuthorizationTokenCommand(options.registryIds?.length ? { registryIds: options.registryIds } : {}), options.signal ? { abortSignal: options.signal } : {});
  } catch (error) {
    const name = (error as Error).name;
    throw new ShipgateError('image.ecr-login', `ECR GetAuthorizationToken failed: ${name}: ${(error as Error).message}`, {
      exitCode: ExitCode.external,
      hint: name === 'AccessDeniedException' ? 'allow ecr:GetAuthorizationToken on "*" for this role' : 'check the AWS region and credentials (AWS_REGION, AWS_PROFILE)',
      cause: error,
    });
  }
  const data = output.authorizationData?.[0];
  const decoded = data?.authorizationToken ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (!data?.proxyEndpoint || colon <= 0) {
    throw new ShipgateError('image.ecr-login', 'ECR GetAuthorizationToken returned no usable authorization data', { exitCode: ExitCode.external });
  }
  return {
    registry: data.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/$/, ''),
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
  };
}

/** An ECR client for `region` (default: the SDK's own resolution: AWS_REGION, profile …). */
export async function createEcrClient(region?: string): Promise<ECRClient> {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  return new ECRClient(region ? { region } : {});
}

/** Account and region of an ECR registry host (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`), or undefined. */
export function parseEcrHost(registry: string): { accountId: string; region: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(registry);
  return m ? { accountId: m[1]!, region: m[2]! } : undefined;
}

/**
 * Logs in to the ECR registry an image lives on: its account and region come from the host, so
 * the token is for that registry and never sent to another one.
 */
export async function ecrLoginFor(registry: string, options: { region?: string; signal?: AbortSignal; client?: Pick<ECRClient, 'send'> } = {}): Promise<EcrLogin> {
  const host = parseEcrHost(registry);
  const client = options.client ?? (await createEcrClient(host?.region ?? options.region));
  const login = await ecrLogin(client, { ...(host ? { registryIds: [host.accountId] } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  if (login.registry !== registry) {
    throw new ShipgateError('image.ecr-registry-mismatch', `ECR log-in is for ${login.registry}, the image is on ${registry}`, {
      hint: 'ECR credentials only work for ECR registries: use an image on <account>.dkr.ecr.<region>.amazonaws.com, or drop ecr-login / --ecr',
    });
  }
  return login;
}
