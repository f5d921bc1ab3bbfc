// @shipgate/slack: the steps that talk to Slack and the shipgate Slack app: approval, notify.
export { approvalStep, createApprovalStep } from './approval/index.js';
export { slackNotifyStep } from './notify/index.js';
