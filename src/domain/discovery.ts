import type { CertificateInfo } from '../pki/certificate-info.ts';

export const discoveryStatuses = ['Unmanaged', 'Managed', 'Dismissed'] as const;

export type DiscoveryStatus = (typeof discoveryStatuses)[number];

/** A row: the fields read from the certificate (dates as Date, the PEM as pem_data) and the sighting. */
export interface DiscoveredCertificateRow extends Omit<CertificateInfo, 'not_before' | 'not_after' | 'pem'> {
  id: string;
  not_before: Date;
  not_after: Date;
  pem_data: string;
  source_path: string;
  source_format: 'PEM' | 'DER';
  agent_id: string;
  discovery_scan_id: string | null;
  managed_certificate_id: string | null;
  status: DiscoveryStatus;
  first_seen_at: Date;
  last_seen_at: Date;
  dismissed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DiscoveryScanRow {
  id: string;
  agent_id: string;
  directories: string[];
  certificates_found: number;
  certificates_new: number;
  errors_count: number;
  errors: string[];
  scan_duration_ms: number;
  started_at: Date;
  completed_at: Date;
}

export interface DiscoveryFilter {
  agent_id?: string | undefined;
  status?: DiscoveryStatus | undefined;
}
