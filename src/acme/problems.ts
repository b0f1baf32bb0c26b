/**
 * ACME errors (RFC 8555 6.7): RFC 7807 problem documents with `urn:ietf:params:acme:error:*`
 * types. Services throw AcmeProblem; the ACME routes render it as application/problem+json
 * (src/http/routes/acme/protocol.ts), always with a fresh Replay-Nonce.
 */
export type AcmeErrorType =
  | 'accountDoesNotExist'
  | 'alreadyReplaced'
  | 'alreadyRevoked'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badRevocationReason'
  | 'badSignatureAlgorithm'
  | 'caa'
  | 'compound'
  | 'connection'
  | 'dns'
  | 'externalAccountRequired'
  | 'incorrectResponse'
  | 'invalidContact'
  | 'invalidProfile'
  | 'malformed'
  | 'orderNotReady'
  | 'rateLimited'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'tls'
  | 'unauthorized'
  | 'unsupportedContact'
  | 'unsupportedIdentifier'
  | 'userActionRequired';

export interface Identifier {
  type: string;
  value: string;
}

/** The JSON of a problem document, as sent and as stored on challenges and orders. */
export interface ProblemDocument {
  type: string;
  detail: string;
  status: number;
  identifier?: Identifier;
  subproblems?: ProblemDocument[];
  algorithms?: readonly string[];
}

export class AcmeProblem extends Error {
  readonly type: AcmeErrorType;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly extra: Pick<ProblemDocument, 'identifier' | 'subproblems' | 'algorithms'>;

  constructor(type: AcmeErrorType, status: number, detail: string, extra: AcmeProblem['extra'] = {}, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'AcmeProblem';
    this.type = type;
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }

  document(): ProblemDocument {
    return { type: `urn:ietf:params:acme:error:${this.type}`, detail: this.message, status: this.status, ...this.extra };
  }
}

export function isAcmeProblem(value: unknown): value is AcmeProblem {
  return value instanceof AcmeProblem;
}

/** Factories, one per use: the status each type takes is decided here, once. */
export const AcmeProblems = {
  malformed: (detail: string, status = 400) => new AcmeProblem('malformed', status, detail),
  notFound: (what: string) => new AcmeProblem('malformed', 404, `${what} does not exist`),
  unauthorized: (detail: string, status = 403) => new AcmeProblem('unauthorized', status, detail),
  badNonce: (detail: string) => new AcmeProblem('badNonce', 400, detail),
  badSignatureAlgorithm: (detail: string, algorithms: readonly string[]) => new AcmeProblem('badSignatureAlgorithm', 400, detail, { algorithms }),
  badPublicKey: (detail: string) => new AcmeProblem('badPublicKey', 400, detail),
  accountDoesNotExist: (detail: string) => new AcmeProblem('accountDoesNotExist', 400, detail),
  invalidContact: (detail: string) => new AcmeProblem('invalidContact', 400, detail),
  unsupportedContact: (detail: string) => new AcmeProblem('unsupportedContact', 400, detail),
  externalAccountRequired: (detail: string) => new AcmeProblem('externalAccountRequired', 403, detail),
  /** key-change to a key another account holds: 409 with that account's URL in Location (RFC 8555 7.3.5). */
  keyInUse: (accountUrl: string) => new AcmeProblem('malformed', 409, 'the new key is already the key of another account', {}, { Location: accountUrl }),
  serverInternal: (detail = 'internal server error', status = 500, headers: Record<string, string> = {}) =>
    new AcmeProblem('serverInternal', status, detail, {}, headers),
  rateLimited: (detail: string, retryAfterSeconds: number) =>
    new AcmeProblem('rateLimited', 429, detail, {}, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) }),
};
