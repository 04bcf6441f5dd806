-- Audit history, projected from every event topic by projections/audit: one row per event,
-- keyed by its event id. `version` is the event's position in its aggregate's stream, so a
-- resource's history reads in stream order (rows written by other means leave it null).
ALTER TABLE audit_logs ADD COLUMN version BIGINT;
CREATE INDEX idx_audit_logs_history ON audit_logs(resource_type, resource_id, version, created_at);
