-- Knowledge documents of the catalog (guides an admin loads; evidence is quoted from their text).
-- `knowledge_documents` holds the current version of each; `knowledge_document_versions` every
-- version, immutable, so a passage quoted from an older version can still be checked against it.
-- `version` is the document's version ("1", "2", …); `stream_version` the last event applied to
-- the row, which only a newer event may change (a replayed older one never regresses it).
CREATE TABLE knowledge_documents (
  id UUID PRIMARY KEY,
  title TEXT NOT NULL,
  source_uri TEXT NOT NULL,
  text TEXT NOT NULL,
  version VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
  stream_version BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  retired_at TIMESTAMPTZ
);
-- The list: by title then id, active ones (or all, for admins).
CREATE INDEX idx_knowledge_documents_title ON knowledge_documents (title, id) INCLUDE (status);
CREATE INDEX idx_knowledge_documents_source_uri ON knowledge_documents (source_uri);

CREATE TABLE knowledge_document_versions (
  document_id UUID NOT NULL,
  version VARCHAR(16) NOT NULL,
  title TEXT NOT NULL,
  source_uri TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (document_id, version)
);
