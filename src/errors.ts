/**
 * The error catalogue: every error a client can see, with a stable code and HTTP status.
 * Services throw `AppError`s made by the factories below; only src/http/problems.ts turns
 * them into responses. docs/errors.md lists every code (src/errors.test.ts keeps them in step).
 * Never branch on an error's message: branch on `kind`.
 */
import type { ZodError } from 'zod';

export const errorCatalogue = {
  badRequest: { code: 'CF_ERR_BAD_REQUEST', status: 400 },
  invalidJson: { code: 'CF_ERR_INVALID_JSON', status: 400 },
  validation: { code: 'CF_ERR_VALIDATION', status: 400 },
  unauthenticated: { code: 'CF_ERR_UNAUTHENTICATED', status: 401 },
  forbidden: { code: 'CF_ERR_FORBIDDEN', status: 403 },
  notFound: { code: 'CF_ERR_NOT_FOUND', status: 404 },
  methodNotAllowed: { code: 'CF_ERR_METHOD_NOT_ALLOWED', status: 405 },
  conflict: { code: 'CF_ERR_CONFLICT', status: 409 },
  gone: { code: 'CF_ERR_GONE', status: 410 },
  payloadTooLarge: { code: 'CF_ERR_PAYLOAD_TOO_LARGE', status: 413 },
  unsupportedMediaType: { code: 'CF_ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  rateLimited: { code: 'CF_ERR_RATE_LIMITED', status: 429 },
  unavailable: { code: 'CF_ERR_UNAVAILABLE', status: 503 },
  databaseUnavailable: { code: 'CF_ERR_DATABASE_UNAVAILABLE', status: 503 },
  internal: { code: 'CF_ERR_INTERNAL', status: 500 },
} as const satisfies Record<string, { code: `CF_ERR_${string}`; status: number }>;

export type ErrorKind = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** Extra response headers the problem needs (Allow, WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(kind: ErrorKind, message: string, headers: Record<string, string> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppError';
    this.kind = kind;
    this.headers = headers;
  }

  get code(): string {
    return errorCatalogue[this.kind].code;
  }

  get status(): number {
    return errorCatalogue[this.kind].status;
  }
}

/** Factories: each throw site gets a fresh stack (piscina's errors.ts pattern). */
export const Errors = {
  badRequest: (message: string) => new AppError('badRequest', message),
  invalidJson: (message: string) => new AppError('invalidJson', message),
  validation: (message: string) => new AppError('validation', message),
  unauthenticated: (message: string) => new AppError('unauthenticated', message, { 'WWW-Authenticate': 'Bearer realm="certfleet"' }),
  forbidden: (message: string) => new AppError('forbidden', message),
  notFound: (message: string) => new AppError('notFound', message),
  methodNotAllowed: (allowed: readonly string[]) =>
    new AppError('methodNotAllowed', `method not allowed; allowed: ${allowed.join(', ')}`, {
      Allow: allowed.join(', '),
    }),
  conflict: (message: string) => new AppError('conflict', message),
  gone: (message: string) => new AppError('gone', message),
  payloadTooLarge: (limit: number) => new AppError('payloadTooLarge', `request body exceeds the limit of ${limit} bytes`),
  unsupportedMediaType: (expected: string) => new AppError('unsupportedMediaType', `Content-Type must be ${expected}`),
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new AppError('rateLimited', message, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
  unavailable: (message: string, retryAfterSeconds?: number) =>
    new AppError('unavailable', message, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : {}),
  /** The database cannot be reached or dropped the connection: the client retries, nothing is lost. */
  databaseUnavailable: (cause: unknown, retryAfterSeconds = 1) =>
    new AppError('databaseUnavailable', 'the database is unavailable; retry shortly', { 'Retry-After': String(retryAfterSeconds) }, { cause }),
  internal: (cause?: unknown) => new AppError('internal', 'internal server error', {}, { cause }),
};

/**
 * "field.path: message" for the first issue, which is what a client can act on. `prefix` names
 * the field a nested value was validated as (e.g. "config").
 */
export function describeZodError(err: ZodError, prefix?: string): string {
  // An unknown key first: a typo (`certpath`) explains the "required" issue it also causes.
  const issue = err.issues.find((i) => i.code === 'unrecognized_keys') ?? err.issues[0];
  if (!issue) return 'invalid request';
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
  return `${path.length > 0 ? path.join('.') : 'body'}: ${issue.message}`;
}
export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
