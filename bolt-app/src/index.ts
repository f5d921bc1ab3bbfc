// @shipgate/bolt-app — the Slack app that approves, rejects and rolls back deployments. This is
// the package's whole public API, as the README's "As a library" section documents it; everything
// else under src/ is internal and may change.

// ---- the app
/** Builds the app (store, Slack receiver and listeners, outbox worker, HTTP API); `start()` listens. */
export { createShipgateApp } from './app.js';
/** The built app (`start`, `stop`, `sweep`, its `store`, `url`) and what `createShipgateApp` takes. */
export type { ShipgateApp, ShipgateAppOptions } from './app.js';

// ---- its data
/** The app's data over one SQL handle: `approvals`, `deployments`, `rollbacks`, `outbox`, `audit`. */
export { Store } from './store/store.js';
/** @deprecated The store's name before it was split by aggregate: a {@link Store} with `getApproval(id)`. */
export { ApprovalStore } from './store/store.js';
/** Opens Postgres when a `postgres://` URL is given, else PGlite in a data directory. */
export { openDatabase } from './store/sql.js';
/** A pool on a Postgres server (`DATABASE_URL`), for several replicas. */
export { openPostgres } from './store/sql.js';
/** PGlite (Postgres in WebAssembly) on disk, or in memory with `memory://`. */
export { openPglite } from './store/sql.js';
/** The SQL handle a `Store` runs over. */
export type { SqlDatabase } from './store/sql.js';

// ---- its config
/** Parses `shipgate-bolt.yml` text; errors name file:line:col. */
export { parseConfig } from './config.js';
/** A config file read once and reloaded on change (`ConfigSource.fromFile(path)`). */
export { ConfigSource } from './config.js';
/** The environments' channels, approvers and `self-approve`. */
export type { AppConfig } from './config.js';

// ---- the pure core
/** The approval state machine: pending → approved / rejected / expired, refusals otherwise. */
export { nextState } from './approvals/machine.js';
/** The events `nextState` takes and what it answers. */
export type { ApprovalEvent, Transition } from './approvals/machine.js';
/** Whether a Slack user may approve, reject or roll back in an environment. */
export { mayAct } from './approvals/access.js';
/** What `mayAct` weighs and answers. */
export type { AccessDecision, Actor, EnvironmentPolicy } from './approvals/access.js';
/** The rollback of one deployment: its target, or why there is none. */
export { planRollback } from './approvals/rollback.js';
/** The last good deployment before `from` in a service's history. */
export { selectRollbackTarget } from './approvals/rollback.js';
/** What `planRollback` answers. */
export type { RollbackPlan } from './approvals/rollback.js';
/** Approvals and deployments as the store returns them, and their backend and rollback specs. */
export type { Approval, ApprovalBackend, Deployment, RollbackSpec } from './approvals/model.js';

// ---- backends of your own
/** A thrown error that says whether the outbox should try again (`retryable`). */
export { BackendError } from './backends/types.js';
/** What a backend is told or asked and what it answers (`createShipgateApp({ decisionBackends, rollbackBackends })`). */
export type { BackendResult, DecisionBackend, DecisionNotice, RollbackBackend, RollbackRequest } from './backends/types.js';
