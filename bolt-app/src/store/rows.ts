// How the store reads a row's columns back into values. PGlite and node-postgres disagree on a few
// types (PGlite may hand back a timestamp or a jsonb column as a string), so every repository
// decodes through these.
import { randomBytes } from 'node:crypto';

export type Row = Record<string, unknown>;

export const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** A new public id such as `apr_…` or `dep_…` (72 random bits, URL-safe). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
