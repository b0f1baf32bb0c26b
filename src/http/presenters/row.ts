/** Copies the named fields of a repository row, rendering dates as RFC 3339. */
export function pick(row: object, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = (row as Record<string, unknown>)[field];
    out[field] = value instanceof Date ? value.toISOString() : (value ?? null);
  }
  return out;
}
