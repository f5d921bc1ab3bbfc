import { describe, expect, it } from '@jest/globals';
import { canTransition, expiredOrders, orderTotal, validateNewOrder, type Order } from '../src/orders.js';

describe('validateNewOrder', () => {
  it.each([
    [null, 'body'],
    [{ lines: [{ sku: 'A-1', quantity: 1, unitPrice: 1 }] }, 'customer'],
    [{ customer: 'ada', lines: [] }, 'lines'],
    [{ customer: 'ada', lines: [{ sku: 'bad sku', quantity: 1, unitPrice: 1 }] }, 'lines[0].sku'],
    [{ customer: 'ada', lines: [{ sku: 'A-1', quantity: 0, unitPrice: 1 }] }, 'lines[0].quantity'],
    [{ customer: 'ada', lines: [{ sku: 'A-1', quantity: 1, unitPrice: -5 }] }, 'lines[0].unitPrice'],
  ])('rejects %j naming the field %s', (input, field) => {
    expect(() => validateNewOrder(input)).toThrow(expect.objectContaining({ field }));
  });

  it('trims the customer and keeps the lines', () => {
    expect(validateNewOrder({ customer: ' ada ', lines: [{ sku: 'A-1', quantity: 2, unitPrice: 150 }] })).toEqual({
      customer: 'ada',
      lines: [{ sku: 'A-1', quantity: 2, unitPrice: 150 }],
    });
  });
});

describe('orderTotal', () => {
  it.each([
    [[{ sku: 'A-1', quantity: 2, unitPrice: 150 }], 2000, 360],
    [[{ sku: 'A-1', quantity: 1, unitPrice: 999 }, { sku: 'B-2', quantity: 3, unitPrice: 1 }], 0, 1002],
    [[{ sku: 'A-1', quantity: 1, unitPrice: 5 }], 1000, 6], // 5.5 rounds half up
  ])('lines %j at %d bp cost %d cents', (lines, tax, total) => {
    expect(orderTotal(lines, tax)).toBe(total);
  });
});

describe('status rules', () => {
  it.each([
    ['pending', 'paid', true],
    ['paid', 'shipped', true],
    ['shipped', 'cancelled', false],
    ['cancelled', 'paid', false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('finds only pending orders older than the limit', () => {
    const order = (id: string, status: Order['status'], createdAt: string): Order => ({ id, status, createdAt, customer: 'c', lines: [], total: 0 });
    const now = new Date('2026-01-01T01:00:00Z');
    const found = expiredOrders(
      [order('old', 'pending', '2026-01-01T00:00:00Z'), order('new', 'pending', '2026-01-01T00:59:00Z'), order('paid', 'paid', '2026-01-01T00:00:00Z')],
      now,
      30 * 60_000,
    );
    expect(found.map((o) => o.id)).toEqual(['old']);
  });
});
