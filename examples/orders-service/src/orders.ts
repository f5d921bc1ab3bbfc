// The orders domain: pure rules, no I/O.
export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'cancelled';

export interface OrderLine {
  sku: string;
  quantity: number;
  /** Unit price in cents. */
  unitPrice: number;
}

export interface NewOrder {
  customer: string;
  lines: OrderLine[];
}

export interface Order extends NewOrder {
  id: string;
  status: OrderStatus;
  /** Total in cents, tax included. */
  total: number;
  createdAt: string;
}

export class ValidationError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

const skuPattern = /^[A-Z0-9][A-Z0-9-]{1,31}$/;

/** Checks an incoming order and returns it normalised; throws ValidationError naming the field. */
export function validateNewOrder(input: unknown): NewOrder {
  if (typeof input !== 'object' || input === null) throw new ValidationError('body', 'must be a JSON object');
  const { customer, lines } = input as Record<string, unknown>;
  if (typeof customer !== 'string' || customer.trim().length === 0) throw new ValidationError('customer', 'must be a non-empty string');
  if (!Array.isArray(lines) || lines.length === 0) throw new ValidationError('lines', 'must be a non-empty array');
  if (lines.length > 100) throw new ValidationError('lines', 'at most 100 lines per order');
  const normalised = lines.map((line: unknown, i): OrderLine => {
    const l = (line ?? {}) as Record<string, unknown>;
    if (typeof l.sku !== 'string' || !skuPattern.test(l.sku)) throw new ValidationError(`lines[${i}].sku`, 'must look like ABC-123');
    if (!Number.isInteger(l.quantity) || (l.quantity as number) < 1) throw new ValidationError(`lines[${i}].quantity`, 'must be a positive integer');
    if (!Number.isInteger(l.unitPrice) || (l.unitPrice as number) < 0) throw new ValidationError(`lines[${i}].unitPrice`, 'must be a non-negative integer (cents)');
    return { sku: l.sku, quantity: l.quantity as number, unitPrice: l.unitPrice as number };
  });
  return { customer: customer.trim(), lines: normalised };
}

/** Total in cents with tax (basis points, e.g. 2000 = 20 %), rounded half up once on the sum. */
export function orderTotal(lines: readonly OrderLine[], taxBasisPoints = 2000): number {
  const net = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  return Math.round((net * (10_000 + taxBasisPoints)) / 10_000);
}

const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: [],
  cancelled: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return transitions[from].includes(to);
}

/** Pending orders older than `maxAgeMs` at `now`: the worker cancels these. */
export function expiredOrders(orders: readonly Order[], now: Date, maxAgeMs: number): Order[] {
  return orders.filter((o) => o.status === 'pending' && now.getTime() - Date.parse(o.createdAt) > maxAgeMs);
}
