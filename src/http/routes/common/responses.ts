/** Response schemas shared by routes; used for docs/openapi.yaml and by tests. */
import { z } from 'zod';

export const timestampString = z.iso.datetime({ offset: true });

/** `{data, total, page, per_page}` (+ `next_cursor` for keyset lists). */
export function listEnvelope(item: z.ZodType, options: { cursor?: boolean; page?: boolean } = {}) {
  return z.object({
    data: z.array(item),
    total: options.cursor ? z.number().int().nullable() : z.number().int(),
    ...(options.page === false ? {} : { page: z.number().int().optional() }),
    per_page: z.number().int(),
    ...(options.cursor ? { next_cursor: z.string().optional().describe('present when more rows follow') } : {}),
  });
}

export const ErrorSchema = z.object({
  error: z.string().describe('HTTP status text'),
  code: z.string().describe('stable CF_ERR_* code (docs/errors.md)'),
  message: z.string(),
  request_id: z.string(),
});

/** A resource's response object: its create fields (as returned) plus id and timestamps. */
export function resourceSchema(create: z.ZodObject, fields: readonly string[]) {
  const shape: Record<string, z.ZodType> = {};
  for (const field of fields) {
    if (field === 'id') shape.id = z.string();
    else if (field.endsWith('_at')) shape[field] = timestampString.nullable();
    else {
      const source = create.shape[field] as z.ZodType | undefined;
      shape[field] = source ? (source instanceof z.ZodOptional ? (source.unwrap() as z.ZodType) : source) : z.unknown();
    }
  }
  return z.object(shape);
}
