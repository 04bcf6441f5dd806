-- Per-account sign-in throttling (services/api/auth/signInThrottle.ts): failed sign-ins per
-- email within a window, and the lock they lead to. Shared by every API process. Keyed by an
-- HMAC of the normalised email, never the email itself, and kept for unknown emails too, so
-- neither the lock nor this table tells whether an address is registered. Not a read model:
-- nothing rebuilds it from events; rows whose window and lock are over are swept.
CREATE TABLE sign_in_throttle (
  email_hash TEXT PRIMARY KEY,
  -- Failures since window_started_at (restarts at 0 when a lock starts).
  failures INTEGER NOT NULL CHECK (failures >= 0),
  window_started_at TIMESTAMPTZ NOT NULL,
  locked_until TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_sign_in_throttle_window ON sign_in_throttle(window_started_at);
