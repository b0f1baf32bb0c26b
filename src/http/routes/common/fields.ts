/** Field schemas shared by resource schemas. */
import { z } from 'zod';

/** Client-chosen ids (certctl keeps them): lower-case, digits, and . _ - ; generated when omitted. */
export const clientId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, . _ - starting with a letter or digit')
  .optional();

export const name = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
export const description = z.string().max(4000, 'must be at most 4000 characters');
export const refId = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
export const jsonObject = z.record(z.string(), z.unknown());
