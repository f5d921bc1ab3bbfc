// @shipgate/quality-gate: the quality-gate step (SonarQube server or a local gate over reports).
export { gateErrorExitCodes, qualityGateInputs, qualityGateStep } from './step.js';
export type { QualityGateInputs } from './step.js';
