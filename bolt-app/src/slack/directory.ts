// What Slack knows about a user that access decisions need: which of the approver user groups
// (usergroups.users.list) they belong to, who the requester is (an e-mail resolved with
// users.lookupByEmail), and the clicker's own e-mail and names (users.info) when the requester could
// not be resolved to a user ID. Group members are cached briefly; a failed lookup counts as "not a
// member", and a requester Slack cannot place fails closed.
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { isUserGroupId, parseRequester, type Actor, type EnvironmentPolicy, type Requester } from '../approvals/access.js';

export class ApproverDirectory {
  readonly #members = new Map<string, { at: number; users: Promise<ReadonlySet<string>> }>();
  readonly #channels = new Map<string, { at: number; users: Promise<ReadonlySet<string>> }>();

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

  /** Whether `userId` is in `channel` (conversations.members, every page, cached like groups; a failure: not a member). */
  async inChannel(channel: string, userId: string): Promise<boolean> {
    const hit = this.#channels.get(channel);
    if (hit && Date.now() - hit.at < this.ttlMs) return (await hit.users).has(userId);
    const users = (async () => {
      const members = new Set<string>();
      let cursor: string | undefined;
      // bounded: 50 pages of 1,000 members
      for (let page = 0; page < 50; page += 1) {
        const res = await this.client.conversations.members({ channel, limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const m of res.members ?? []) members.add(m);
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) break;
      }
      return members as ReadonlySet<string>;
    })().catch((error: unknown) => {
      this.#channels.delete(channel);
      this.logger.warn({ channel, err: (error as Error).message }, 'conversations.members failed');
      return new Set<string>() as ReadonlySet<string>;
    });
    this.#channels.set(channel, { at: Date.now(), users });
    return (await users).has(userId);
  }

  /**
   * The requester, normalised, with an e-mail resolved to a Slack user ID (users.lookupByEmail)
   * when Slack knows it. When it does not answer, the address stays unresolved and access fails
   * closed (see requesterMatch).
   */
  async requester(raw: string | null | undefined): Promise<Requester | undefined> {
    const parsed = raw ? parseRequester(raw) : undefined;
    if (!parsed?.email) return parsed;
    const email = parsed.email;
    return this.client.users
      .lookupByEmail({ email })
      .then((res) => (res.user?.id ? { id: res.user.id.toUpperCase(), email } : { email }))
      .catch((error: unknown) => {
        const code = (error as { data?: { error?: string } }).data?.error;
        if (code !== 'users_not_found') this.logger.warn({ err: (error as Error).message }, 'users.lookupByEmail failed');
        return { email };
      });
  }

  /**
   * What access decisions need about `userId`: their approver groups, and — when a requester may
   * not approve and was not resolved to a user ID — their own e-mail and names (users.info).
   */
  async actor(userId: string, policy: EnvironmentPolicy | undefined, requester?: Requester): Promise<Actor> {
    const groups = new Set<string>();
    if (policy && !policy.approvers.includes(userId)) {
      for (const id of policy.approvers.filter(isUserGroupId)) if ((await this.#group(id)).has(userId)) groups.add(id);
    }
    if (!policy || policy.selfApprove || !requester || requester.id) return { userId, groups };
    const profile = await this.client.users
      .info({ user: userId })
      .then((res) => res.user)
      .catch((error: unknown) => {
        this.logger.warn({ err: (error as Error).message }, 'users.info failed');
        return undefined;
      });
    if (!profile) return { userId, groups };
    const names = [profile.name, profile.real_name, profile.profile?.display_name, profile.profile?.real_name, profile.profile?.email?.split('@')[0]]
      .filter((n): n is string => Boolean(n))
      .map((n) => n.toLowerCase());
    return { userId, groups, email: profile.profile?.email, names };
  }
}
