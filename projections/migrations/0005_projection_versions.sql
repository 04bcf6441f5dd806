-- The last event version applied to each catalog and identity row, so a re-applied older event
-- never overwrites a newer row (the projections update only `WHERE version < event version`).
-- `questions.version` already holds the question's catalog version ("1", "2", …), so its
-- stream position is `stream_version`.
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE role_catalog ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE credential_catalog ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE questions ADD COLUMN stream_version BIGINT NOT NULL DEFAULT 0;
