-- One index of decisions by member, not two: the unique key (tenant, member_id, policy_id,
-- period, ordinal) begins with every column of `decisions_by_member` and serves each read
-- that index served, so writing both with every decision bought nothing — on SQLite a page
-- of the dozen a lone payout's commit writes (BENCHMARKS.md §4).
DROP INDEX IF EXISTS decisions_by_member;
