-- A tenant's settings: how its data comes in. One row a tenant, made when first set; a
-- tenant without one has the defaults (`Store::tenant_settings`).
CREATE TABLE tenant_settings (
    tenant TEXT PRIMARY KEY REFERENCES tenants(name),
    -- The FHIR identifier system whose values are the tenant's member ids (bulk FHIR uploads).
    fhir_member_identifier_system TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);
