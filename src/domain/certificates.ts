export const certificateStatuses = ['Pending', 'Active', 'Expiring', 'Expired', 'RenewalInProgress', 'Failed', 'Revoked', 'Archived'] as const;

export type CertificateStatus = (typeof certificateStatuses)[number];

export interface CertificateRow {
  id: string;
  name: string;
  common_name: string;
  sans: string[];
  environment: string;
  owner_id: string;
  team_id: string;
  issuer_id: string;
  renewal_policy_id: string;
  certificate_profile_id: string | null;
  target_ids: string[];
  status: CertificateStatus;
  /** Infinity (not issued yet) or a Date. */
  expires_at: Date | number;
  tags: Record<string, string>;
  last_renewal_at: Date | null;
  last_deployment_at: Date | null;
  revoked_at: Date | null;
  revocation_reason: string | null;
  source: string;
  created_at: Date;
  updated_at: Date;
}

/** Columns a client may set; status and timestamps belong to the lifecycle. */
export const writableCertificateColumns = [
  'name',
  'common_name',
  'sans',
  'environment',
  'owner_id',
  'team_id',
  'issuer_id',
  'renewal_policy_id',
  'certificate_profile_id',
  'tags',
] as const;

export type CertificateWrite = Partial<Record<(typeof writableCertificateColumns)[number], unknown>>;

export const sortColumns = ['created_at', 'updated_at', 'expires_at', 'name', 'common_name'] as const;

export type SortColumn = (typeof sortColumns)[number];

export interface CertificateFilter {
  status?: string | undefined;
  environment?: string | undefined;
  owner_id?: string | undefined;
  team_id?: string | undefined;
  issuer_id?: string | undefined;
  profile_id?: string | undefined;
  agent_id?: string | undefined;
  expires_before?: Date | undefined;
  expires_after?: Date | undefined;
  created_after?: Date | undefined;
  updated_after?: Date | undefined;
}

export interface CertificateVersionRow {
  id: string;
  certificate_id: string;
  serial_number: string;
  not_before: Date;
  not_after: Date;
  fingerprint_sha256: string;
  pem_chain: string;
  key_algorithm: string;
  key_size: number;
  created_at: Date;
}

export interface DeploymentTargetRow {
  id: string;
  name: string;
  type: string;
  agent_id: string;
  config: Record<string, unknown>;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  /** The latest deployment of this certificate to this target, if any. */
  last_deployment: {
    job_id: string;
    status: string;
    attempts: number;
    error: string | null;
    /** When it ended (Completed or Failed), else null. */
    completed_at: Date | null;
    updated_at: Date;
    /** What the agent's connector did (files, commands, the leaf served after), as it reported it. */
    report: Record<string, unknown> | null;
  } | null;
}
