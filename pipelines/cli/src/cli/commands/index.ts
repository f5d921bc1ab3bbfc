// Every command group of the CLI. Add a feature's registrar here (one line each).
import type { CommandRegistrar } from '@shipgate/protocol';
import { registerPipelineCommands } from './pipeline.js';
import { registerStepCommand } from './step.js';
import { registerGateCommand } from './gate.js';
import { registerImageCommands } from './image.js';
import { registerExportCommand } from './export.js';
import { registerDeployCommands } from './deploy.js';
import { registerReportCommand } from './report.js';
import { registerVerifyCommand } from './verify.js';
import { registerSendReportCommand } from './send-report.js';

export const commandRegistrars: CommandRegistrar[] = [registerPipelineCommands, registerStepCommand, registerGateCommand, registerImageCommands, registerExportCommand, registerDeployCommands, registerReportCommand, registerVerifyCommand, registerSendReportCommand];
