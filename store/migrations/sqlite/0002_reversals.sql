-- A reversal undoes one decision's postings with new postings that point at them; the decision
-- and its entry stay. At most one reversal per decision, and, like the ledger, never edited.
CREATE TABLE reversals (
    decision_id TEXT PRIMARY KEY REFERENCES decisions(id),
    tenant      TEXT NOT NULL,
    ledger_seq  INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    reversed_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TRIGGER reversals_append_only_update BEFORE UPDATE ON reversals
BEGIN SELECT RAISE(ABORT, 'reversals are append-only'); END;
CREATE TRIGGER reversals_append_only_delete BEFORE DELETE ON reversals
BEGIN SELECT RAISE(ABORT, 'reversals are append-only'); END;
