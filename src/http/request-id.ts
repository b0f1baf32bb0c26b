import { randomUUID } from 'node:crypto';

/** Inbound ids are echoed only when short and made of safe characters, so they are log-safe. */
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when it is safe to echo, else a fresh UUID. */
export function requestIdFrom(inbound: string): string {
  return inbound !== '' && safeRequestId.test(inbound) ? inbound : randomUUID();
}
