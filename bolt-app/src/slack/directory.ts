// What Slack knows about a user that access decisions need: which of the approver user groups
// (usergroups.users.list) they belong to, and their e-mail address (users.info) when a requester
// was given as one. Group members are cached briefly; a failed lookup counts as "not a member".
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { isUserGroupId, type Actor, type EnvironmentPolicy } from '../approvals/access.js';

export class ApproverDirectory {
  readonly #members = new Map<string, { at: number; users: Promise<ReadonlySet<string>> }>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    private readonly ttlMs = 60_000,
  ) {}

  #group(id: string): Promise<ReadonlySet<string>> {
    const hit = this.#members.get(id);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.users;
    const users = this.client.usergroups.users
      .list({ usergroup: id })
      .then((res) => new Set(res.users ?? []) as ReadonlySet<string>)
      .catch((error: unknown) => {
        this.#members.delete(id);
        // fail closed: nobody is taken for a member of a group Slack would not list
        this.logger.warn({ usergroup: id, err: (error as Error).message }, 'usergroups.users.list failed');
        return new Set<string>() as ReadonlySet<string>;
      });
    this.#members.set(id, { at: Date.now(), users });
    return users;
  }

  async actor(userId: string, policy: EnvironmentPolicy | undefined, requester?: string | null): Promise<Actor> {
    const groups = new Set<string>();
    if (policy && !policy.approvers.includes(userId)) {
      for (const id of policy.approvers.filter(isUserGroupId)) if ((await this.#group(id)).has(userId)) groups.add(id);
    }
    let email: string | undefined;
    if (policy && !policy.selfApprove && requester?.includes('@')) {
      email = await this.client.users
        .info({ user: userId })
        .then((res) => res.user?.profile?.email)
        .catch(() => undefined);
    }
    return { userId, groups, email };
  }
}
