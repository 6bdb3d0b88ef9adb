-- Attributes a tenant's policies declare (`[attributes]` in policy.toml) for a member, as the
-- platform sent them: a JSON object of strings, whole numbers and flags; NULL for none.
ALTER TABLE members ADD COLUMN attributes TEXT;
