/**
 * PostgreSQL integrity errors, translated into typed errors that name the API field.
 * Repositories declare which constraint guards which field; services turn these into
 * 409/400 answers. Nothing here knows about HTTP.
 */

export type ConstraintKind = 'unique' | 'reference' | 'inUse' | 'check';

export class ConstraintViolation extends Error {
  constructor(
    readonly kind: ConstraintKind,
    /** The API field (for unique/reference/check) or the referencing resource (for inUse). */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConstraintViolation';
  }
}

export interface ConstraintMap {
  /** unique constraint name -> field whose value must be unique */
  unique?: Record<string, string>;
  /** FK constraint name on this table -> field holding the reference */
  references?: Record<string, string>;
  /** FK constraint names on other tables that point at this table -> what they are ("certificates") */
  referencedBy?: Record<string, string>;
}

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  detail?: string;
}

/** Rethrows `err` as a ConstraintViolation when it is one this map knows; otherwise as is. */
export function translateConstraintError(err: unknown, map: ConstraintMap, subject: string): never {
  const e = err as PgError;
  const constraint = e?.constraint ?? '';
  if (e?.code === '23505') {
    const field = map.unique?.[constraint] ?? (constraint.endsWith('_pkey') ? 'id' : undefined);
    if (field) throw new ConstraintViolation('unique', field, `a ${subject} with this ${field} already exists`, { cause: err });
  }
  // 23503 foreign_key_violation; 23001 restrict_violation (ON DELETE RESTRICT).
  if (e?.code === '23503' || e?.code === '23001') {
    const field = map.references?.[constraint];
    if (field) throw new ConstraintViolation('reference', field, `${field}: no such ${field.replace(/_ids?$/, '')}`, { cause: err });
    const referrer = map.referencedBy?.[constraint];
    if (referrer) throw new ConstraintViolation('inUse', referrer, `${subject} is still referenced by ${referrer}`, { cause: err });
  }
  if (e?.code === '23514') {
    throw new ConstraintViolation('check', constraint, `a value is out of range (${constraint})`, { cause: err });
  }
  throw err;
}
