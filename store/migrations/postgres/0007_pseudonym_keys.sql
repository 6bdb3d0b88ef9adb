-- A secret per tenant for the pseudonyms that name members in outputs for actuaries (a
-- backtest's member tables): HMAC-SHA256 of the member id under this key. Made when first
-- needed (Store::pseudonyms), never shown.
ALTER TABLE tenants ADD COLUMN pseudonym_key TEXT;
