// Orders in Postgres (db/migrations). Works with anything that runs a parameterised query: a
// node-postgres Pool in production, the test harness's client in tests.
import { randomUUID } from 'node:crypto';
import { canTransition, orderTotal, ValidationError, type NewOrder, type Order, type OrderStatus } from './orders.js';
import { TransitionError, type OrderStore } from './store.js';

export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

const statuses: readonly OrderStatus[] = ['pending', 'paid', 'shipped', 'cancelled'];
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface OrderRow {
  id: string;
  customer: string;
  status: OrderStatus;
  total: number;
  created_at: string;
  lines: Array<{ sku: string; quantity: number; unitPrice: number }>;
}

// created_at as ISO text in SQL: the same string whichever driver reads it
const selectOrders = `
  SELECT o.id::text AS id, c.handle AS customer, o.status::text AS status, o.total,
         to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
         (SELECT coalesce(json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'unitPrice', l.unit_price) ORDER BY l.line_no), '[]')
            FROM order_lines l WHERE l.order_id = o.id)::text AS lines
  FROM orders o JOIN customers c ON c.id = o.customer_id`;

function toOrder(row: Omit<OrderRow, 'lines'> & { lines: string }): Order {
  return { id: row.id, customer: row.customer, status: row.status, total: row.total, createdAt: row.created_at, lines: JSON.parse(row.lines) as Order['lines'] };
}

function sqlState(error: unknown): string | undefined {
  return (error as { code?: unknown }).code as string | undefined;
}

export class PgOrderStore implements OrderStore {
  constructor(private readonly db: Queryable) {}

  async create(order: NewOrder, now = new Date()): Promise<Order> {
    const id = randomUUID();
    const lines = order.lines.map((l, i) => ({ line_no: i + 1, sku: l.sku, quantity: l.quantity, unit_price: l.unitPrice }));
    let inserted: Array<{ id: string }>;
    try {
      // one statement: the order and its lines are written together or not at all
      ({ rows: inserted } = await this.db.query<{ id: string }>(
        `WITH c AS (SELECT id FROM customers WHERE handle = $1),
              o AS (INSERT INTO orders (id, customer_id, total, created_at) SELECT $2, c.id, $3, $4 FROM c RETURNING id)
         INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price)
         SELECT o.id, l.line_no, l.sku, l.quantity, l.unit_price
         FROM o, json_to_recordset($5::json) AS l(line_no int, sku text, quantity int, unit_price int)
         RETURNING order_id::text AS id`,
        [order.customer, id, orderTotal(order.lines), now.toISOString(), JSON.stringify(lines)],
      ));
    } catch (error) {
      if (sqlState(error) === '23503') throw new ValidationError('lines', 'names a SKU that is not in the catalogue');
      throw error;
    }
    if (inserted.length === 0) throw new ValidationError('customer', `no customer "${order.customer}"`);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Order | undefined> {
    if (!uuidPattern.test(id)) return undefined;
    const { rows } = await this.db.query<Omit<OrderRow, 'lines'> & { lines: string }>(`${selectOrders} WHERE o.id = $1`, [id]);
    return rows[0] ? toOrder(rows[0]) : undefined;
  }

  async list(): Promise<Order[]> {
    const { rows } = await this.db.query<Omit<OrderRow, 'lines'> & { lines: string }>(`${selectOrders} ORDER BY o.created_at, o.id`);
    return rows.map(toOrder);
  }

  async setStatus(id: string, status: OrderStatus): Promise<Order | undefined> {
    if (!uuidPattern.test(id)) return undefined;
    const from = statuses.filter((s) => canTransition(s, status));
    // the transition rule is checked in the same statement that applies it: two clicks race safely
    const { rows } = await this.db.query(`UPDATE orders SET status = $2 WHERE id = $1 AND status::text = ANY($3::text[]) RETURNING id`, [id, status, from]);
    const order = await this.get(id);
    if (!order) return undefined;
    if (rows.length === 0) throw new TransitionError(`cannot move an order from ${order.status} to ${status}`);
    return order;
  }
}
