-- Expiry alerts: one notification per certificate, threshold (days before expiry) and expiry
-- date, so a renewed certificate is alerted again for its new expiry but never twice for the
-- same one. Delivered to a webhook with retries; after max attempts it is dead-lettered.
CREATE TABLE notifications (
  id              text PRIMARY KEY,
  certificate_id  text NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  threshold_days  integer NOT NULL,
  expires_at      timestamptz NOT NULL,
  channel         text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook')),
  status          text NOT NULL DEFAULT 'Pending' CHECK (status IN ('Pending', 'Delivered', 'DeadLetter')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  CONSTRAINT notifications_once UNIQUE (certificate_id, threshold_days, expires_at)
);
-- Delivery claims due Pending notifications; lists go by id.
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'Pending';
CREATE INDEX notifications_status_idx ON notifications (status, id);
CREATE INDEX notifications_certificate_idx ON notifications (certificate_id, id);
