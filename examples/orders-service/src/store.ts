// Where orders live. The HTTP app and the worker depend on this interface only.
import { randomUUID } from 'node:crypto';
import { canTransition, orderTotal, type NewOrder, type Order, type OrderStatus } from './orders.js';

export interface OrderStore {
  create(order: NewOrder, now?: Date): Promise<Order>;
  get(id: string): Promise<Order | undefined>;
  list(): Promise<Order[]>;
  /** Moves an order to `status` if the rules allow; returns undefined for an unknown id. */
  setStatus(id: string, status: OrderStatus): Promise<Order | undefined>;
}

export class TransitionError extends Error {}

export class MemoryOrderStore implements OrderStore {
  readonly #orders = new Map<string, Order>();

  async create(order: NewOrder, now = new Date()): Promise<Order> {
    const created: Order = { ...order, id: randomUUID(), status: 'pending', total: orderTotal(order.lines), createdAt: now.toISOString() };
    this.#orders.set(created.id, created);
    return created;
  }

  async get(id: string): Promise<Order | undefined> {
    return this.#orders.get(id);
  }

  async list(): Promise<Order[]> {
    return [...this.#orders.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async setStatus(id: string, status: OrderStatus): Promise<Order | undefined> {
    const order = this.#orders.get(id);
    if (!order) return undefined;
    if (!canTransition(order.status, status)) throw new TransitionError(`cannot move an order from ${order.status} to ${status}`);
    const updated = { ...order, status };
    this.#orders.set(id, updated);
    return updated;
  }
}
