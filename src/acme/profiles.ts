/**
 * The certificate profiles offered over ACME (draft-ietf-acme-profiles): held in memory so the
 * directory costs no database round trip, and reloaded when any replica changes a profile (the
 * change feed hears migration 0020's trigger). While the feed is down, the list is re-read at
 * most once a second rather than trusted.
 *
 * Which profile an order gets: the one it names (`profile`), else CERTFLEET_ACME_DEFAULT_PROFILE,
 * else the only profile offered. Anything else is `invalidProfile` naming the choices.
 */
import type { AcmeProfile } from '../domain/acme.ts';
import { AcmeProblem } from './problems.ts';

export interface ProfileChanges {
  readonly healthy: boolean;
  version(buckets?: readonly string[]): number;
}

const bucket = ['certificate_profiles'];
const unhealthyRefreshMs = 1_000;

export class AcmeProfiles {
  readonly #load: () => Promise<AcmeProfile[]>;
  readonly #changes: ProfileChanges | undefined;
  readonly #defaultProfile: string | undefined;
  #profiles: AcmeProfile[] = [];
  #version = Number.NaN;
  #loadedAt = 0;
  /** The load in flight and the change version it started at (shared only within that version). */
  #loading: { version: number; profiles: Promise<AcmeProfile[]> } | undefined;

  constructor(options: { load: () => Promise<AcmeProfile[]>; changes?: ProfileChanges; defaultProfile?: string | undefined }) {
    this.#load = options.load;
    this.#changes = options.changes;
    this.#defaultProfile = options.defaultProfile || undefined;
  }

  /** The offered profiles, current as of the last change any replica announced. */
  async list(): Promise<AcmeProfile[]> {
    const version = this.#changes?.version(bucket) ?? 0;
    const fresh = this.#changes?.healthy ? version === this.#version : Date.now() - this.#loadedAt < unhealthyRefreshMs;
    if (fresh) return this.#profiles;
    // A load that started before the latest change may have read the old rows: a caller that
    // arrives after the change (its write acknowledged) never shares it.
    if (this.#loading?.version === version) return this.#loading.profiles;
    const loading = {
      version,
      profiles: this.#load()
        .then(
          (profiles) => {
            // An older load finishing after a newer one must not put its list back.
            if (!(version < this.#version)) {
              this.#profiles = profiles;
              this.#version = version;
              this.#loadedAt = Date.now();
            }
            return profiles;
          },
          (err: unknown) => {
            // The database is away: the last list known beats a directory that fails.
            if (this.#loadedAt > 0) return this.#profiles;
            throw err;
          },
        )
        .finally(() => {
          if (this.#loading === loading) this.#loading = undefined;
        }),
    };
    this.#loading = loading;
    return loading.profiles;
  }

  /** The profile an order is for (see the file comment). */
  async resolve(requested: unknown): Promise<AcmeProfile> {
    const profiles = await this.list();
    const choices = () => (profiles.length ? `offered: ${profiles.map((p) => p.name).join(', ')}` : 'no profile is offered over ACME on this server');
    if (requested !== undefined) {
      if (typeof requested !== 'string') throw new AcmeProblem('malformed', 400, 'profile must be a string');
      const found = profiles.find((p) => p.name === requested || p.id === requested);
      if (!found) throw new AcmeProblem('invalidProfile', 400, `profile ${JSON.stringify(requested.slice(0, 64))} is not offered (${choices()})`);
      return found;
    }
    const fallback = this.#defaultProfile ? profiles.find((p) => p.name === this.#defaultProfile || p.id === this.#defaultProfile) : undefined;
    if (fallback) return fallback;
    if (!this.#defaultProfile && profiles.length === 1) return profiles[0]!;
    throw new AcmeProblem(
      'invalidProfile',
      400,
      this.#defaultProfile ? `the default profile ${this.#defaultProfile} is not offered (${choices()})` : `name a profile in the order (${choices()})`,
    );
  }
}
