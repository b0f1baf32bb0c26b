export const notificationStatuses = ['Pending', 'Delivered', 'DeadLetter'] as const;

export interface NotificationRow {
  id: string;
  certificate_id: string;
  threshold_days: number;
  expires_at: Date;
  channel: 'webhook';
  status: (typeof notificationStatuses)[number];
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface NotificationFilter {
  status?: NotificationRow['status'] | undefined;
  certificate_id?: string | undefined;
}
