-- A payout's key is now written in the payout's own transaction: the row names the decision it
-- answered with (and how), and the answer is rebuilt from that decision when the key is
-- retried. Errors are kept as before, in `status` and `response`. Nothing is ever left
-- "in flight" in the database any more (a request in flight is known to its own process), so
-- any such row from before can only be from a process that died: it is let go.
ALTER TABLE idempotency_keys ADD COLUMN decision_id TEXT;
ALTER TABLE idempotency_keys ADD COLUMN kind TEXT;
DELETE FROM idempotency_keys WHERE state = 'in_flight';
