export const jobTypes = ['Issuance', 'Renewal', 'Deployment', 'Signing'] as const;

export const jobStatuses = ['Pending', 'AwaitingCSR', 'Running', 'Completed', 'Failed', 'Cancelled'] as const;

export type JobStatus = (typeof jobStatuses)[number];

export interface JobRow {
  id: string;
  type: (typeof jobTypes)[number];
  certificate_id: string;
  target_id: string | null;
  agent_id: string | null;
  /** Signing jobs: the issuance/renewal job they answer. */
  parent_job_id: string | null;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  scheduled_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface JobFilter {
  status?: JobStatus | undefined;
  type?: JobRow['type'] | undefined;
  certificate_id?: string | undefined;
  agent_id?: string | undefined;
}
