/**
 * ACME orders (RFC 8555 7.4-7.5): newOrder, authorizations, challenges and finalize, with the
 * order state machine pending -> ready -> (processing) -> valid (or invalid, which pollers see
 * and stop on; a local CA's finalize commits ready -> valid in one transaction). Every
 * transition is conditional on the state it leaves (`WHERE status = <from>`, or the ready
 * orders a finalize group locks), so two replicas or two racing requests can never both move an
 * order; each commits with its audit event.
 *
 * Finalize turns an order into an inventory certificate (source ACME, the profile's owner, team,
 * issuer and renewal policy) issued through the same path as REST issuance: ACME certificates are
 * listed, audited, alerted on, revocable over REST and on the CRL like any other.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { AcmeOrderRepository, ChallengeContext, NewAuthorization, NewOrder, OrderWithAuthorizations } from '../db/acme-orders.ts';
import type { BornIssuedCertificate, IssuerContext } from '../db/issuance.ts';
import type { AuditEventInput } from '../domain/audit.ts';
import type { AcmeAccountRow, AcmeAuthorizationRow, AcmeChallengeType, AcmeIssuedVersion, AcmeOrderRow, AcmeProfile, StoredProblem } from '../domain/acme.ts';
import { newId } from '../domain/ids.ts';
import { ConstraintViolation } from '../db/constraint-errors.ts';
import { isAppError } from '../errors.ts';
import { toPem } from '../pki/certificate.ts';
import { nameMatches } from '../pki/profile-rules.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import type { Principal } from '../services/auth/permissions.ts';
import type { CertificateService } from '../services/certificates/certificates.ts';
import { externalIssuerTypes } from '../services/issuers/connector.ts';
import { isQueued, type IssuanceService, type RequestedValidity, type SignedLeaf } from '../services/pki/issuance.ts';
import type { CheckedCsr } from '../workers/issue-certificate.task.ts';
import type { WorkerPool } from '../workers/pool.ts';
import { canonicalIp, parseIdentifiers } from './identifiers.ts';
import { jwkThumbprint, spkiSha256 } from './jws.ts';
import { AcmeProblem, AcmeProblems } from './problems.ts';
import type { AcmeProfiles } from './profiles.ts';
import type { AcmeRateLimits } from './rate-limits.ts';
import { RecentEntries } from './recent-entries.ts';
import { parseRenewalCertId } from './renewal-info.ts';
import type { ValidationQueue } from './validation-queue.ts';
import type { ChallengeValidators } from './validators.ts';

export interface AcmeOrderSettings {
  /** How long a new order (and its authorizations) may wait to be finalized. */
  orderTtlSeconds: number;
  /** Orders an account may have waiting for validation at once (renewals exempt); 0: no limit. */
  maxPendingOrdersPerAccount: number;
  /** A challenge processing this long was abandoned by its replica: validate it again. */
  interruptedValidationSeconds: number;
}

export interface AcmeOrdersOptions {
  repo: AcmeOrderRepository;
  audit: AuditWriter;
  profiles: AcmeProfiles;
  limits: AcmeRateLimits;
  queue: ValidationQueue;
  validators: ChallengeValidators;
  certificates: Pick<CertificateService, 'create'>;
  issuance: Pick<IssuanceService, 'issueFromCsr' | 'issueNew' | 'issuerContext' | 'signNew' | 'recordNew'>;
  workers: Pick<WorkerPool, 'run'>;
  settings: AcmeOrderSettings;
}

/** Attempts per validation when the failure may be transient (dns, connection), a second apart. */
const validationAttempts = 2;
const retryDelayMs = 1_000;
const retriable = new Set(['dns', 'connection']);

/** The audit actor for what an ACME account does through inventory services. */
export function acmePrincipal(accountId: string): Principal {
  return { keyId: accountId, name: 'ACME account', role: 'operator', permissions: new Set(), actorType: 'ACMEAccount' };
}

/** A validation's outcome (failure undefined: the name was proven). */
interface ValidationOutcome {
  challengeId: string;
  authorizationId: string;
  orderId: string;
  accountId: string;
  identifier: string;
  failure: AcmeProblem | undefined;
}

/** A finalize past its checks: what its unit of work writes. */
interface PendingFinalize {
  accountId: string;
  order: OrderWithAuthorizations;
  certificate: BornIssuedCertificate;
  csrPem: string;
  /** What the verifyCsr task found: a local CA signs without checking the request again. */
  checked: CheckedCsr;
  validity: RequestedValidity;
  /** The certificate this order replaces (ARI), if any. */
  replaced: AcmeIssuedVersion | undefined;
}

/** A new order waiting for its group, with its audit event. */
interface PendingOrder {
  order: NewOrder;
  event: AuditEventInput;
}

const notReady = (id: string) => new AcmeProblem('orderNotReady', 403, `order ${id} is no longer ready (finalized concurrently?)`);

/** An order as its routes present it. */
export interface OrderView {
  order: AcmeOrderRow;
  authorizationIds: string[];
}

export class AcmeOrders {
  readonly #o: AcmeOrdersOptions;

  readonly #finalizeGrouped: (finalize: PendingFinalize) => Promise<AcmeOrderRow | undefined | Error>;
  /**
   * Chains issued here, for the download after finalize: one query fewer per order. An issued
   * chain never changes, and an order holding a certificate is never deleted. Set only once the
   * finalize committed.
   */
  readonly #issuedChains = new RecentEntries<{ accountId: string; chain: string }>(4_096);
  /**
   * Orders created here ready (trusting profiles), for the finalize after new-order: one query
   * fewer per order. What finalize reads of them never changes (account, identifiers, profile,
   * validity, replaces, authorizations); their status is checked again where the finalize locks
   * them ready, so a stale "ready" still ends as orderNotReady. Set only once the order committed.
   */
  readonly #readyOrders = new RecentEntries<OrderWithAuthorizations>(4_096);
  /** The chain a finalize group signed; read only once that group committed (finalize()). */
  readonly #signedChains = new WeakMap<PendingFinalize, string>();
  readonly #settleGrouped: (outcome: ValidationOutcome) => Promise<void>;
  readonly #createGrouped: (create: PendingOrder) => Promise<AcmeOrderRow>;

  constructor(options: AcmeOrdersOptions) {
    this.#o = options;
    // New orders that arrive together: one statement inserts them with their authorizations and
    // challenges, their events ride with the COMMIT. One order replacing a certificate another
    // live order replaces fails the group; each then runs alone and only that one is refused.
    const createMany = async (group: PendingOrder[]) => {
      const rows = await options.repo.createOrders(group.map((c) => c.order));
      await options.audit.appendAll(group.map((c) => c.event));
      return rows;
    };
    this.#createGrouped = options.audit.atomicallyBatched(createMany, (one) => createMany([one]).then((rows) => rows[0]!), { joinNested: true });
    this.#settleGrouped = options.audit.atomicallyBatched(
      (group) => this.#settleMany(group),
      (one) => this.#settleMany([one]).then(() => undefined),
      { joinNested: true },
    );
    // Nothing in a group goes on after a failed statement (the group fails whole and each
    // finalize runs alone): its nested units join it, no savepoint round trips.
    this.#finalizeGrouped = options.audit.atomicallyBatched(
      (group) => this.#finalizeMany(group),
      (one) => this.#finalizeAlone(one),
      { joinNested: true },
    );
  }

  /** newOrder: the order with one authorization per name, ready at once under a trusting profile. */
  /** `accountUrl`: the account's URL (kid) as this client knows it. */
  async create(account: AcmeAccountRow, accountUrl: string, payload: Record<string, unknown>, pathProfile?: string): Promise<OrderView> {
    const identifiers = parseIdentifiers(payload.identifiers);
    if (pathProfile !== undefined && payload.profile !== undefined && payload.profile !== pathProfile) {
      throw new AcmeProblem('invalidProfile', 400, `the order names profile ${JSON.stringify(payload.profile)} under the directory of profile ${pathProfile}`);
    }
    const profile = await this.#o.profiles.resolve(payload.profile ?? pathProfile);
    if (profile.authMode === 'trust_authenticated' && !account.eab_key_id) {
      // Trusting an account with names is only as good as knowing whose account it is.
      throw AcmeProblems.unauthorized(`profile ${profile.name} issues without challenges, to accounts bound by an external account binding only`);
    }
    const outside = identifiers.filter((i) => profile.sanPatterns.length > 0 && !profile.sanPatterns.some((p) => nameMatches(p, i.value)));
    if (outside.length > 0) {
      throw new AcmeProblem('rejectedIdentifier', 400, `profile ${profile.name} does not issue for ${outside.map((i) => i.value).join(', ')}`, {
        subproblems: outside.map((i) => ({
          type: 'urn:ietf:params:acme:error:rejectedIdentifier',
          detail: `${i.value} does not match the profile's names (${profile.sanPatterns.join(', ')})`,
          status: 400,
          identifier: i,
        })),
      });
    }
    const { notBefore, notAfter } = requestedValidity(payload, profile);
    const replaces = await this.#replaces(account, payload.replaces);
    // Renewals (ARI `replaces`) are exempt from the order limits: they must never be stopped.
    if (!replaces)
      await this.#checkOrderLimits(
        account,
        identifiers.map((i) => i.value.replace(/^\*\./, '')),
        profile,
      );

    const trusted = profile.authMode === 'trust_authenticated';
    const authorizations: NewAuthorization[] = identifiers.map((identifier) => {
      const wildcard = identifier.value.startsWith('*.');
      return {
        id: newId('authz'),
        identifierType: identifier.type,
        identifier: wildcard ? identifier.value.slice(2) : identifier.value,
        wildcard,
        status: trusted ? 'valid' : 'pending',
        // A trusted name is valid without a challenge, so its authorization lists none: a valid
        // authorization lists the challenge that was validated (RFC 8555 7.1.4), and none was.
        // Clients skip valid authorizations; the four unused rows were two thirds of a new order's.
        challenges: trusted
          ? []
          : challengeTypesFor(identifier.type, wildcard).map((type) => ({ id: newId('chall'), type, token: randomBytes(16).toString('base64url') })),
      };
    });
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + this.#o.settings.orderTtlSeconds) * 1000);
    const orderId = newId('order');
    try {
      const order = await this.#createGrouped({
        order: {
          id: orderId,
          accountId: account.id,
          profileId: profile.id,
          status: trusted ? 'ready' : 'pending',
          expiresAt,
          identifiers,
          notBefore: notBefore ?? null,
          notAfter: notAfter ?? null,
          replaces,
          accountUrl,
          authorizations,
        },
        event: this.#event(account.id, 'acme_order_created', orderId, {
          profile: profile.name,
          identifiers: identifiers.map((i) => i.value),
          auth_mode: profile.authMode,
          ...(replaces ? { replaces } : {}),
        }),
      });
      const authorizationIds = authorizations.map((a) => a.id);
      if (order.status === 'ready') this.#readyOrders.set(order.id, { ...order, authorization_ids: authorizationIds });
      return { order, authorizationIds };
    } catch (err) {
      if (err instanceof ConstraintViolation && err.kind === 'unique') {
        throw new AcmeProblem('alreadyReplaced', 409, `certificate ${String(payload.replaces)} is already being replaced by another order`);
      }
      throw err;
    }
  }

  async #checkOrderLimits(account: AcmeAccountRow, names: string[], profile: AcmeProfile): Promise<void> {
    if (profile.authMode === 'challenge') {
      for (const name of new Set(names)) await this.#o.limits.check('failedValidationsPerIdentifier', `${account.id}:${name}`);
      const max = this.#o.settings.maxPendingOrdersPerAccount;
      if (max > 0 && (await this.#o.repo.pendingOrderCount(account.id)) >= max) {
        throw AcmeProblems.rateLimited(`account ${account.id} has ${max} orders awaiting validation, the most allowed: complete or let some expire`, 60);
      }
    }
    await this.#o.limits.take('newOrdersPerAccount', account.id);
  }

  /** An order of `account` (POST-as-GET). */
  async get(account: AcmeAccountRow, id: string): Promise<OrderView> {
    const order = await this.#ownOrder(account, id);
    return { order, authorizationIds: order.authorization_ids };
  }

  /** The account's live orders, newest first (RFC 8555 7.1.2.1), at most `limit`. */
  ordersOf(account: AcmeAccountRow, limit: number): Promise<string[]> {
    return this.#o.repo.ordersOfAccount(account.id, limit);
  }

  async authorization(account: AcmeAccountRow, id: string): Promise<AcmeAuthorizationRow> {
    const authorization = await this.#o.repo.authorizationById(id);
    if (!authorization) throw AcmeProblems.notFound(`authorization ${id}`);
    if (authorization.account_id !== account.id) throw AcmeProblems.unauthorized('this authorization belongs to another account');
    return authorization;
  }

  /** POST to an authorization: a read, or deactivation (RFC 8555 7.5.2). */
  async updateAuthorization(account: AcmeAccountRow, id: string, payload: Record<string, unknown> | undefined): Promise<AcmeAuthorizationRow> {
    const authorization = await this.authorization(account, id);
    if (payload === undefined || payload.status === undefined) return authorization;
    if (payload.status !== 'deactivated') throw AcmeProblems.malformed('the only status a client may set on an authorization is "deactivated"');
    if (authorization.status !== 'pending' && authorization.status !== 'valid') {
      throw AcmeProblems.malformed(`authorization ${id} is ${authorization.status} and cannot be deactivated`, 403);
    }
    await this.#o.audit.atomically(async () => {
      await this.#o.repo.lockOrders([authorization.order_id]);
      await this.#o.repo.deactivateAuthorization(id);
      await this.#o.repo.advanceOrder(authorization.order_id, new AcmeProblem('unauthorized', 403, `authorization ${id} was deactivated`).document());
      await this.#record(account.id, 'acme_authorization_deactivated', authorization.order_id, { authorization_id: id });
    });
    return this.authorization(account, id);
  }

  /**
   * A client says a challenge is ready (RFC 8555 7.5.1): the challenge becomes processing and a
   * validation is queued; the answer is the challenge as it now is. Repeats change nothing.
   */
  async respond(account: AcmeAccountRow, accountKey: KeyObject, id: string, payload: Record<string, unknown> | undefined): Promise<ChallengeContext> {
    const challenge = await this.challenge(account, id);
    // POST-as-GET reads; any JSON object (RFC 8555 says {}) says "ready".
    if (payload === undefined || challenge.status !== 'pending' || challenge.authorization_status !== 'pending') return challenge;
    const keyAuthorization = `${challenge.token}.${jwkThumbprint(accountKey)}`;
    if (!(await this.#o.repo.setChallengeStatus(id, 'pending', 'processing'))) return this.challenge(account, id);
    if (!this.#queueValidation(challenge, keyAuthorization)) {
      await this.#o.repo.setChallengeStatus(id, 'processing', 'pending');
      throw AcmeProblems.serverInternal('too many validations are waiting; retry shortly', 503, { 'Retry-After': '5' });
    }
    return { ...challenge, status: 'processing' };
  }

  async challenge(account: AcmeAccountRow, id: string): Promise<ChallengeContext> {
    const challenge = await this.#o.repo.challengeById(id);
    if (!challenge) throw AcmeProblems.notFound(`challenge ${id}`);
    if (challenge.account_id !== account.id) throw AcmeProblems.unauthorized('this challenge belongs to another account');
    return challenge;
  }

  #queueValidation(challenge: ChallengeContext, keyAuthorization: string): boolean {
    const request = {
      type: challenge.type,
      identifierType: challenge.identifier_type,
      name: challenge.identifier,
      token: challenge.token,
      keyAuthorization,
      accountUrl: challenge.account_url,
    };
    return this.#o.queue.submit(async (signal) => {
      let outcome: AcmeProblem | undefined;
      // A lookup or a connection that failed may be a blip (a resolver timeout, a listener
      // restarting): one more attempt a second later, within the same deadline. A wrong answer
      // is final at once.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#o.validators.validate(request, signal);
          outcome = undefined;
        } catch (err) {
          outcome =
            err instanceof AcmeProblem
              ? err
              : new AcmeProblem('connection', 400, signal.aborted ? `validation of ${challenge.identifier} timed out` : 'validation failed');
        }
        if (!outcome || attempt >= validationAttempts || signal.aborted || !retriable.has(outcome.type)) break;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
      // The outcome, cascaded to the authorization and the order; outcomes that arrive while a
      // group commits settle together (#settleMany).
      await this.#settleGrouped({
        challengeId: challenge.id,
        authorizationId: challenge.authorization_id,
        orderId: challenge.order_id,
        accountId: challenge.account_id,
        identifier: challenge.identifier,
        failure: outcome,
      });
    });
  }

  /**
   * Validations left `processing` by a replica that went away (crash, deploy) are run again
   * here (the ACME GC loop), so the clients polling them get an answer. Returns how many.
   */
  async retryInterruptedValidations(limit: number): Promise<number> {
    const stale = await this.#o.repo.claimInterruptedValidations(this.#o.settings.interruptedValidationSeconds, limit);
    let queued = 0;
    for (const challenge of stale) if (this.#queueValidation(challenge, `${challenge.token}.${challenge.key_thumbprint}`)) queued++;
    return queued;
  }

  /**
   * Validations settled as one unit of work: their orders locked (two authorizations of one order
   * settling at once would each see the other still pending, and neither make the order ready:
   * the order row serialises them), the challenges and authorizations moved by one statement,
   * then the orders advanced by another, the events with the COMMIT. A statement that fails fails
   * the group, and each then settles alone.
   */
  async #settleMany(outcomes: ValidationOutcome[]): Promise<void[]> {
    await this.#o.repo.lockOrders([...new Set(outcomes.map((o) => o.orderId))]);
    const settled = await this.#o.repo.settleChallenges(
      outcomes.map((o) => ({ challengeId: o.challengeId, authorizationId: o.authorizationId, error: o.failure ? { ...o.failure.document() } : undefined })),
    );
    const moved = outcomes.filter((o) => settled.has(o.challengeId));
    // An order's error names the failure that invalidated it (any one, if several did at once).
    const orders = new Map<string, StoredProblem>();
    for (const o of moved) {
      if (o.failure || !orders.has(o.orderId)) {
        orders.set(o.orderId, new AcmeProblem('unauthorized', 403, `an authorization of this order failed: ${o.failure?.message ?? ''}`).document());
      }
    }
    if (orders.size > 0) await this.#o.repo.advanceOrders([...orders].map(([id, error]) => ({ id, error })));
    await this.#o.audit.appendAll(
      moved.map((o) =>
        this.#event(o.accountId, o.failure ? 'acme_challenge_failed' : 'acme_challenge_validated', o.orderId, {
          challenge_id: o.challengeId,
          ...(o.failure ? { error: o.failure.type, detail: o.failure.message.slice(0, 500) } : {}),
        }),
      ),
    );
    // Counted before the COMMIT (rate-limit steps are their own statements, batched): a client
    // that sees the challenge invalid and orders the name again at once already meets the limit.
    await Promise.all(moved.filter((o) => o.failure).map((o) => this.#o.limits.count('failedValidationsPerIdentifier', `${o.accountId}:${o.identifier}`)));
    return outcomes.map(() => undefined);
  }

  /**
   * finalize (RFC 8555 7.4): the CSR names exactly the order's identifiers (its CN counted),
   * its signature verifies, its key is not the account key. The order is processing while the
   * certificate is issued, valid with it, invalid (with the reason) if issuance fails.
   */
  async finalize(account: AcmeAccountRow, accountKey: KeyObject, id: string, payload: Record<string, unknown> | undefined): Promise<OrderView> {
    const created = this.#readyOrders.get(id);
    if (created) {
      this.#mustOwn(account, created.account_id);
      this.#readyOrders.take(id); // a second finalize reads the order as it is now
    }
    const order = created ?? (await this.#ownOrder(account, id));
    if (order.status !== 'ready') {
      throw new AcmeProblem('orderNotReady', 403, `order ${id} is ${order.status}; only a ready order can be finalized`);
    }
    const csrDer = typeof payload?.csr === 'string' && /^[A-Za-z0-9_-]+$/.test(payload.csr) ? Buffer.from(payload.csr, 'base64url') : undefined;
    if (!csrDer || csrDer.length === 0) throw new AcmeProblem('badCSR', 400, 'csr must be the base64url DER of a PKCS#10 request');
    const csrPem = toPem(csrDer, 'CERTIFICATE REQUEST');
    const profile = await this.#profileOf(order);
    const names = order.identifiers.map((i) => i.value);
    const checked = await this.#o.workers.run('verifyCsr', {
      csr: csrPem,
      names,
      rules: { allowedKeyAlgorithms: profile.allowedKeyAlgorithms, allowedEkus: profile.allowedEkus, sanPatterns: profile.sanPatterns, maxTtlSeconds: 0 },
    });
    if (!checked.ok) throw new AcmeProblem('badCSR', 400, checked.reason);
    const wanted = new Set(names);
    const requested = checked.requested.map((n) => canonicalIp(n) ?? n);
    const extra = requested.filter((n) => !wanted.has(n));
    const missing = names.filter((n) => !requested.includes(n));
    if (extra.length || missing.length) {
      throw new AcmeProblem(
        'badCSR',
        400,
        `the CSR must name exactly the order's identifiers${extra.length ? `; not in the order: ${extra.join(', ')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
      );
    }
    if (checked.spkiSha256 === spkiSha256(accountKey)) {
      throw new AcmeProblem('badCSR', 400, 'the certificate key must not be the account key');
    }
    const firstDnsName = order.identifiers.find((i) => i.type === 'dns')?.value;
    const finalize: PendingFinalize = {
      accountId: account.id,
      order,
      certificate: {
        id: newId('cert'),
        name: `acme-${order.id}`,
        common_name: checked.commonName && wanted.has(checked.commonName) ? checked.commonName : (firstDnsName ?? names[0]!),
        sans: names,
        owner_id: profile.ownerId,
        team_id: profile.teamId,
        issuer_id: profile.issuerId,
        renewal_policy_id: profile.renewalPolicyId,
        certificate_profile_id: profile.id,
        tags: { acme_account: account.id, acme_order: order.id },
        source: 'ACME',
      },
      csrPem,
      checked: checked.checked,
      validity: { notBefore: order.not_before ?? undefined, notAfter: order.not_after ?? undefined },
      replaced: order.replaces ? await this.#o.repo.issuedVersionBySerial(order.replaces) : undefined,
    };
    try {
      // A local CA's finalizes that arrive together commit as one group; an external issuer's
      // (queued signing) each alone.
      const outcome = externalIssuerTypes.has(profile.issuerType)
        ? await this.#o.audit.atomically(() => this.#finalizeAlone(finalize), { joinNested: true })
        : await this.#finalizeGrouped(finalize);
      if (outcome instanceof Error) throw outcome;
      const chain = this.#signedChains.get(finalize);
      if (chain !== undefined && outcome?.status === 'valid') this.#issuedChains.set(order.id, { accountId: account.id, chain });
      return { order: outcome ?? order, authorizationIds: order.authorization_ids };
    } catch (err) {
      if (err instanceof AcmeProblem && err.type === 'orderNotReady') throw err;
      const failure =
        err instanceof AcmeProblem
          ? err
          : isAppError(err) && err.status < 500
            ? new AcmeProblem('badCSR', 400, err.message)
            : AcmeProblems.serverInternal('issuing the certificate failed; place a new order');
      // Nothing of this finalize committed: the order fails for good (RFC 8555 7.4).
      await this.#o.repo.transitionOrder(id, 'ready', 'invalid', { error: failure.document() }).catch(() => undefined);
      throw isAppError(err) && err.status >= 500 ? err : failure;
    }
  }

  /**
   * One finalize in its own unit of work: the order's move, the inventory certificate, its
   * version and every audit event commit together, and a failure leaves no half-made
   * certificate behind (the order rolls back to ready; finalize then fails it for good).
   */
  async #finalizeAlone(f: PendingFinalize): Promise<AcmeOrderRow | undefined> {
    const { order, certificate } = f;
    // Alone after its group failed: what the group signed was rolled back.
    this.#signedChains.delete(f);
    const principal = acmePrincipal(f.accountId);
    if (!(await this.#o.repo.transitionOrder(order.id, 'ready', 'processing'))) throw notReady(order.id);
    // A local issuer signs at once and the certificate is written once, already issued; an
    // external one queues the signing for a certificate created pending.
    let issued: Awaited<ReturnType<IssuanceService['issueFromCsr']>> | undefined = await this.#o.issuance.issueNew(
      principal,
      certificate,
      f.csrPem,
      f.validity,
    );
    if (!issued) {
      await this.#o.certificates.create(principal, certificate);
      issued = await this.#o.issuance.issueFromCsr(principal, certificate.id, f.csrPem, undefined, f.validity);
    }
    if (isQueued(issued)) return this.#o.repo.transitionOrder(order.id, 'processing', 'processing', { certificateId: certificate.id });
    const valid = await this.#o.repo.transitionOrder(order.id, 'processing', 'valid', { certificateId: certificate.id, versionId: issued.versionId });
    await this.#recordFinalized([{ finalize: f, serialNumber: issued.serialNumber }]);
    return valid;
  }

  /**
   * Finalizes of a local CA that arrived together, in one unit of work (UnitOfWork.batched): the
   * ready orders locked in one statement, every CSR signed at once on the worker pool, the
   * certificates and versions inserted by one statement, the orders made valid by another, all
   * audit events with the COMMIT. Six round trips for the group instead of six per finalize.
   * A finalize whose order is no longer ready, or whose signing is refused, gets its error back
   * and the others go on; a failing statement fails the group, and each then runs alone.
   */
  async #finalizeMany(group: PendingFinalize[]): Promise<Array<AcmeOrderRow | Error>> {
    const ready = await this.#o.repo.lockReadyOrders(group.map((f) => f.order.id));
    const contexts = new Map<string, Promise<IssuerContext>>();
    const contextOf = (c: BornIssuedCertificate) => {
      const key = `${c.issuer_id}\n${c.certificate_profile_id ?? ''}`;
      if (!contexts.has(key)) contexts.set(key, this.#o.issuance.issuerContext(c.issuer_id, c.certificate_profile_id));
      return contexts.get(key)!;
    };
    const claimed = new Set<string>();
    const signed = await Promise.all(
      group.map(async (f): Promise<SignedLeaf | Error> => {
        // Two finalizes of one order in one group: the second finds it taken.
        if (!ready.has(f.order.id) || claimed.has(f.order.id)) return notReady(f.order.id);
        claimed.add(f.order.id);
        try {
          return await this.#o.issuance.signNew(await contextOf(f.certificate), f.certificate, f.csrPem, f.validity, f.checked);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
    const issued = group.flatMap((f, i) => {
      const leaf = signed[i]!;
      return leaf instanceof Error ? [] : [{ finalize: f, leaf }];
    });
    for (const { finalize, leaf } of issued) this.#signedChains.set(finalize, leaf.version.pemChain);
    if (issued.length === 0) return signed as Error[];
    await this.#o.issuance.recordNew(
      issued.map(({ finalize, leaf }) => ({ principal: acmePrincipal(finalize.accountId), certificate: finalize.certificate, leaf })),
    );
    const valid = new Map(
      (
        await this.#o.repo.completeOrders(
          issued.map(({ finalize, leaf }) => ({ id: finalize.order.id, certificateId: finalize.certificate.id, versionId: leaf.issued.versionId })),
        )
      ).map((o) => [o.id, o]),
    );
    await this.#recordFinalized(issued.map(({ finalize, leaf }) => ({ finalize, serialNumber: leaf.issued.serialNumber })));
    return group.map((f, i) => {
      const leaf = signed[i]!;
      // Locked ready above and held since: every issued order was completed.
      return leaf instanceof Error ? leaf : valid.get(f.order.id)!;
    });
  }

  /** The renewal an operator asked for (ARI told the client) is done; each finalize's event. */
  async #recordFinalized(done: ReadonlyArray<{ finalize: PendingFinalize; serialNumber: string }>): Promise<void> {
    const events: AuditEventInput[] = [];
    for (const { finalize: f, serialNumber } of done) {
      const requests = f.replaced ? await this.#o.repo.completeRenewalRequests(f.replaced.certificate_id) : 0;
      events.push(
        this.#event(f.accountId, 'acme_order_finalized', f.order.id, {
          certificate_id: f.certificate.id,
          serial_number: serialNumber,
          ...(f.replaced ? { replaced_certificate_id: f.replaced.certificate_id, renewal_requests_completed: requests } : {}),
        }),
      );
    }
    await this.#o.audit.appendAll(events);
  }

  /** The PEM chain of an order's certificate (RFC 8555 7.4.2), for the account that ordered it. */
  async certificateChain(account: AcmeAccountRow, orderId: string): Promise<string> {
    const issued = this.#issuedChains.get(orderId);
    if (issued) {
      this.#mustOwn(account, issued.accountId);
      return issued.chain;
    }
    const found = await this.#o.repo.orderWithChain(orderId);
    if (!found) throw AcmeProblems.notFound(`order ${orderId}`);
    this.#mustOwn(account, found.order.account_id);
    if (!found.chain) throw AcmeProblems.notFound(`certificate ${orderId}`);
    return found.chain;
  }

  async #ownOrder(account: AcmeAccountRow, id: string): Promise<OrderWithAuthorizations> {
    const order = await this.#o.repo.orderById(id);
    if (!order) throw AcmeProblems.notFound(`order ${id}`);
    this.#mustOwn(account, order.account_id);
    return order;
  }

  #mustOwn(account: AcmeAccountRow, orderAccountId: string): void {
    if (orderAccountId !== account.id) throw AcmeProblems.unauthorized('this order belongs to another account');
  }

  async #profileOf(order: AcmeOrderRow): Promise<AcmeProfile> {
    const profile = (await this.#o.profiles.list()).find((p) => p.id === order.profile_id);
    if (!profile) throw new AcmeProblem('invalidProfile', 403, `the order's profile ${order.profile_id} is no longer offered over ACME`);
    return profile;
  }

  /** `replaces` (RFC 9773 5): an ARI certificate id of a certificate this account may renew. */
  async #replaces(account: AcmeAccountRow, value: unknown): Promise<string | null> {
    if (value === undefined || value === null) return null;
    const serial = parseRenewalCertId(value);
    const version = await this.#o.repo.issuedVersionBySerial(serial);
    if (!version || version.account_id !== account.id) {
      throw AcmeProblems.malformed(`replaces names a certificate this account was not issued`);
    }
    return `${serial}`;
  }

  #record(accountId: string, action: string, orderId: string, details: Record<string, unknown>): Promise<void> {
    return this.#o.audit.append(this.#event(accountId, action, orderId, details));
  }

  #event(accountId: string, action: string, orderId: string, details: Record<string, unknown>): AuditEventInput {
    return { actor: accountId, actorType: 'ACMEAccount', action, resourceType: 'acme_order', resourceId: orderId, category: 'cert_lifecycle', details };
  }
}

/** The most a requested notBefore may lie in the future. */
const maxNotBeforeAheadMs = 30 * 86_400_000;

/** What proves a name: a wildcard only DNS; an IP address has no DNS name to prove (RFC 8738 7). */
function challengeTypesFor(identifierType: string, wildcard: boolean): AcmeChallengeType[] {
  if (wildcard) return ['dns-01', 'dns-account-01'];
  if (identifierType === 'ip') return ['http-01', 'tls-alpn-01'];
  return ['http-01', 'dns-01', 'tls-alpn-01', 'dns-account-01'];
}

/**
 * notBefore/notAfter (RFC 8555 7.4): honoured when the profile and its issuer allow them, else
 * refused at new-order (a server must not issue other dates than those asked for).
 */
function requestedValidity(payload: Record<string, unknown>, profile: AcmeProfile): { notBefore?: Date; notAfter?: Date } {
  const notBefore = optionalDate(payload.notBefore, 'notBefore');
  const notAfter = optionalDate(payload.notAfter, 'notAfter');
  const now = Date.now();
  if (notBefore && notBefore.getTime() > now + maxNotBeforeAheadMs) throw AcmeProblems.malformed('notBefore may be at most 30 days ahead');
  if (notBefore && notBefore.getTime() < now - 86_400_000) throw AcmeProblems.malformed('notBefore may not be more than a day in the past');
  if (notAfter) {
    const start = Math.max(notBefore?.getTime() ?? now, now - 60_000);
    let longestMs = profile.issuerValidityDays * 86_400_000;
    if (profile.maxTtlSeconds > 0) longestMs = Math.min(longestMs, profile.maxTtlSeconds * 1000);
    if (notAfter.getTime() <= start) throw AcmeProblems.malformed('notAfter must be later than notBefore and now');
    if (notAfter.getTime() - start > longestMs) {
      throw AcmeProblems.malformed(`notAfter is too far: profile ${profile.name} issues certificates of at most ${Math.floor(longestMs / 1000)} s`);
    }
  }
  return { ...(notBefore ? { notBefore } : {}), ...(notAfter ? { notAfter } : {}) };
}

function optionalDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw AcmeProblems.malformed(`${field} must be an RFC 3339 date`);
  return date;
}
