import { z } from 'zod';
import { Errors } from '../../../errors.ts';

/** page and per_page, for route docs; pageParams does the range checks with precise messages. */
export const pageQuery = z.strictObject({
  page: z.string().optional().describe('1-based page number; default 1'),
  per_page: z.string().optional().describe('rows per page, 1..500; default 50'),
});

export const maxPerPage = 500;
export const defaultPerPage = 50;

/** A positive integer query parameter within [min, max]; 400 naming it otherwise. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw Errors.validation(`${name}: must be a whole number between ${min} and ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw Errors.validation(`${name}: must be between ${min} and ${max}`);
  return value;
}

export function pageParams(query: URLSearchParams): { page: number; perPage: number } {
  return {
    page: intParam(query, 'page', 1, 1, 1_000_000),
    perPage: intParam(query, 'per_page', defaultPerPage, 1, maxPerPage),
  };
}
