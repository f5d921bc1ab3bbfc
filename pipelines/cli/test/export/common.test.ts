import { describe, expect, it } from '@jest/globals';
import type { PipelineSpec } from '@shipgate/core';
import { firstFreeName, pipelineLocation } from '../../src/export/common.js';

describe('pipelineLocation', () => {
  it.each<[string, string | undefined, { dir: string; fileName: string }]>([
    ['/repo/shipgate.yml', undefined, { dir: '.', fileName: 'shipgate.yml' }],
    ['/repo/shipgate.yml', '.', { dir: '.', fileName: 'shipgate.yml' }],
    ['/repo/services/orders/ci.yaml', 'services/orders', { dir: 'services/orders', fileName: 'ci.yaml' }],
    ['/repo/services/orders/shipgate.yml', 'services/orders//', { dir: 'services/orders', fileName: 'shipgate.yml' }],
    ['C:\\repo\\svc\\shipgate.yml', 'svc', { dir: 'svc', fileName: 'shipgate.yml' }],
  ])('%s in %s', (file, sourceDirectory, expected) => {
    expect(pipelineLocation({ file } as PipelineSpec, sourceDirectory)).toEqual(expected);
  });
});

describe('firstFreeName', () => {
  const dashed = (n: number) => `shipgate-report${n === 2 ? '' : `-${n}`}`;
  it.each<[string, string[], string]>([
    ['the wanted name when it is free', ['lint', 'unit'], 'report'],
    ['the first alternative when it is taken', ['report'], 'shipgate-report'],
    ['the next alternative after that', ['report', 'shipgate-report'], 'shipgate-report-3'],
    ['skips every taken one', ['report', 'shipgate-report', 'shipgate-report-3', 'shipgate-report-4'], 'shipgate-report-5'],
  ])('%s', (_name, taken, expected) => {
    expect(firstFreeName('report', (name) => taken.includes(name), dashed)).toBe(expected);
  });
});
