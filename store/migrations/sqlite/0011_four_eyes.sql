-- Four-eyes publishing: the person who holds each key, the holder whose key stored each draft,
-- a tenant's choice (NULL: the default, on), and the approvals of drafts, each for the files
-- it saw (`files_hash`: SHA-256 of the stored files), so a change after it voids it.
ALTER TABLE api_keys ADD COLUMN holder TEXT;
ALTER TABLE policy_versions ADD COLUMN stored_by TEXT;
ALTER TABLE tenant_settings ADD COLUMN four_eyes INTEGER;
CREATE TABLE policy_approvals (
    tenant TEXT NOT NULL REFERENCES tenants(name),
    policy_id TEXT NOT NULL,
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    files_hash TEXT NOT NULL,
    approver TEXT NOT NULL,
    approver_key TEXT NOT NULL,
    comment TEXT NOT NULL,
    approved_at TEXT NOT NULL
) STRICT;
CREATE INDEX policy_approvals_by_version ON policy_approvals (tenant, policy_id, version);
