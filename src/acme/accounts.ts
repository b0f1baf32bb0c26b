/**
 * ACME accounts (RFC 8555 7.3): created by new-account with the key that signs it, found again
 * by that key (onlyReturnExisting), updated and deactivated by their own kid. Every change is
 * audited in the same transaction, with the account as the actor.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { AcmeServerRepository } from '../db/acme-server.ts';
import type { AcmeAccountRow } from '../domain/acme.ts';
import { ConstraintViolation } from '../db/constraint-errors.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import type { AcmeEabKeys } from './eab.ts';
import type { AcmeRateLimits } from './rate-limits.ts';
import { importJwk, jwkThumbprint, parseJsonObject, parseJws, publicJwk, verifyJws } from './jws.ts';
import { AcmeProblems } from './problems.ts';

/** At most this many contacts per account (Boulder allows 10 too). */
const maxContacts = 10;
// An addr-spec without comments, quoted parts or hfields: what a CA can send mail to.
const mailAddress = /^[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Validates `contact` (RFC 8555 7.3: mailto URLs only here); returns the list to store. */
export function validateContacts(contact: unknown): string[] {
  if (contact === undefined || contact === null) return [];
  if (!Array.isArray(contact)) throw AcmeProblems.malformed('contact must be an array of URLs');
  if (contact.length > maxContacts) throw AcmeProblems.invalidContact(`at most ${maxContacts} contacts are accepted`);
  return contact.map((value) => {
    if (typeof value !== 'string') throw AcmeProblems.invalidContact('each contact must be a URL string');
    if (!value.toLowerCase().startsWith('mailto:'))
      throw AcmeProblems.unsupportedContact(`only mailto: contacts are supported (got ${JSON.stringify(value.slice(0, 64))})`);
    const address = value.slice('mailto:'.length);
    if (address.includes('?') || address.includes(','))
      throw AcmeProblems.invalidContact('a mailto: contact must name exactly one address, without header fields');
    if (!mailAddress.test(address) || address.length > 254)
      throw AcmeProblems.invalidContact(`${JSON.stringify(address.slice(0, 64))} is not an email address`);
    return `mailto:${address}`;
  });
}

export class AcmeAccounts {
  readonly #repo: AcmeServerRepository;
  readonly #audit: AuditWriter;
  readonly #eab: AcmeEabKeys;
  readonly #eabRequired: boolean;
  readonly #limits: AcmeRateLimits;

  constructor(options: { repo: AcmeServerRepository; audit: AuditWriter; eab: AcmeEabKeys; eabRequired: boolean; limits: AcmeRateLimits }) {
    this.#limits = options.limits;
    this.#repo = options.repo;
    this.#audit = options.audit;
    this.#eab = options.eab;
    this.#eabRequired = options.eabRequired;
  }

  /**
   * new-account: the account of `key` (created: false), or a new one. `onlyReturnExisting`
   * never creates (accountDoesNotExist). An `externalAccountBinding` is verified and its key
   * bound in the account's own transaction (required when the server requires EAB). Two racing
   * creations with one key: one wins, the other returns the winner.
   */
  async findOrCreate(key: KeyObject, payload: Record<string, unknown>, url: string, clientIp: string): Promise<{ account: AcmeAccountRow; created: boolean }> {
    const thumbprint = jwkThumbprint(key);
    const existing = await this.#repo.accountByThumbprint(thumbprint);
    if (existing) return { account: existing, created: false };
    if (payload.onlyReturnExisting === true) throw AcmeProblems.accountDoesNotExist('no account exists for this key');
    const contact = validateContacts(payload.contact);
    const binding = payload.externalAccountBinding;
    if ((binding === undefined || binding === null) && this.#eabRequired) {
      throw AcmeProblems.externalAccountRequired('this server requires an external account binding: ask its operator for an EAB key id and HMAC key');
    }
    const eabKeyId = binding === undefined || binding === null ? undefined : await this.#eab.verifyBinding(binding, key, url);
    await this.#limits.take('newAccountsPerIp', clientIp || 'unknown');
    try {
      const account = await this.#audit.atomically(async () => {
        const created = await this.#repo.createAccount({
          id: `acct-${randomBytes(12).toString('base64url')}`,
          keyThumbprint: thumbprint,
          jwk: publicJwk(key),
          contact,
          tosAgreed: payload.termsOfServiceAgreed === true,
          eabKeyId,
        });
        if (eabKeyId) await this.#eab.bind(eabKeyId, created.id);
        await this.#record(created.id, 'acme_account_created', { contacts: contact.length, key_type: key.asymmetricKeyType, eab_key_id: eabKeyId ?? null });
        return created;
      });
      return { account, created: true };
    } catch (err) {
      if (err instanceof ConstraintViolation && err.kind === 'unique') {
        const winner = await this.#repo.accountByThumbprint(thumbprint);
        if (winner) return { account: winner, created: false };
      }
      throw err;
    }
  }

  /** POST to the account URL: a read (empty payload or `{}`), a contact update, or deactivation. */
  async update(account: AcmeAccountRow, payload: Record<string, unknown> | undefined): Promise<AcmeAccountRow> {
    if (payload === undefined) return account;
    const deactivate = payload.status !== undefined;
    if (deactivate && payload.status !== 'deactivated') throw AcmeProblems.malformed('the only status a client may set is "deactivated"');
    const contact = payload.contact === undefined ? undefined : validateContacts(payload.contact);
    if (!deactivate && contact === undefined) return account;
    return this.#audit.atomically(async () => {
      const updated = await this.#repo.updateAccount(account.id, { ...(contact ? { contact } : {}), ...(deactivate ? { status: 'deactivated' } : {}) });
      if (!updated) throw AcmeProblems.accountDoesNotExist(`account ${account.id} does not exist`);
      if (contact) await this.#record(account.id, 'acme_account_updated', { contacts: contact.length });
      if (deactivate) await this.#record(account.id, 'acme_account_deactivated', {});
      return updated;
    });
  }

  /**
   * key-change (RFC 8555 7.3.5): `inner` is a JWS signed by the new key (jwk, the same url, no
   * kid) over {account, oldKey}. The account keeps its URL; the old key stops working at once.
   * A new key another account holds is a 409 naming that account.
   */
  async changeKey(account: AcmeAccountRow, accountKey: KeyObject, inner: unknown, url: string, accountUrl: (id: string) => string): Promise<AcmeAccountRow> {
    const jws = parseJws(inner);
    if (jws.header.kid !== undefined || jws.header.jwk === undefined) throw AcmeProblems.malformed('the inner JWS must carry the new key as jwk, and no kid');
    if (jws.header.url !== url) throw AcmeProblems.unauthorized('the inner JWS url is not the key-change URL');
    const newKey = importJwk(jws.header.jwk);
    verifyJws(jws, newKey);
    const payload = parseJsonObject(jws.payload, 'inner payload');
    if (payload.account !== accountUrl(account.id)) throw AcmeProblems.unauthorized('the inner JWS names another account');
    if (typeof payload.oldKey !== 'object' || payload.oldKey === null) throw AcmeProblems.malformed('the inner JWS payload must carry oldKey');
    const oldThumbprint = jwkThumbprint(importJwk(payload.oldKey as Record<string, unknown>));
    if (oldThumbprint !== account.key_thumbprint || jwkThumbprint(accountKey) !== oldThumbprint)
      throw AcmeProblems.unauthorized('oldKey is not the key of this account');
    const newThumbprint = jwkThumbprint(newKey);
    if (newThumbprint === oldThumbprint) throw AcmeProblems.malformed('the new key is the current key');
    await this.#limits.take('keyChangesPerAccount', account.id);
    const holder = await this.#repo.accountByThumbprint(newThumbprint);
    if (holder) throw AcmeProblems.keyInUse(accountUrl(holder.id));
    try {
      return await this.#audit.atomically(async () => {
        const changed = await this.#repo.changeAccountKey(account.id, oldThumbprint, newThumbprint, publicJwk(newKey));
        if (!changed) throw AcmeProblems.unauthorized('the account key changed meanwhile; sign with the current key');
        await this.#record(account.id, 'acme_account_key_changed', { key_type: newKey.asymmetricKeyType });
        return changed;
      });
    } catch (err) {
      if (err instanceof ConstraintViolation && err.kind === 'unique') {
        const winner = await this.#repo.accountByThumbprint(newThumbprint);
        if (winner) throw AcmeProblems.keyInUse(accountUrl(winner.id));
      }
      throw err;
    }
  }

  #record(accountId: string, action: string, details: Record<string, unknown>): Promise<void> {
    return this.#audit.append({
      actor: accountId,
      actorType: 'ACMEAccount',
      action,
      resourceType: 'acme_account',
      resourceId: accountId,
      category: 'auth',
      details,
    });
  }
}
