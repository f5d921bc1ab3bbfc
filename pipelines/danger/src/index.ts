// @shipgate/danger: Danger rules for pull requests.
export { largePr, lockfileInStep, migrationsNeedInitData, qualityGateComment, shipgateRules, testsWithSource, validPipeline } from './rules.js';
export type { DangerGit, DangerLike, DangerReporter, ShipgateDangerOptions } from './rules.js';
