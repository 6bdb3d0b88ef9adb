-- Readings without the foreign key to members: checking it on every row cost a bulk upload
-- about half its time, and it guards nothing the writers do not: every path that stores
-- readings checks first that the member is enrolled (members.rs: `enrolled_among`,
-- `require_member`), and a member is never deleted (erasure deletes the readings).
ALTER TABLE readings DROP CONSTRAINT IF EXISTS readings_tenant_member_id_fkey;
