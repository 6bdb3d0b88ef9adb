-- A reversal undoes one decision's postings with new postings that point at them; the decision
-- and its entry stay. At most one reversal per decision, and, like the ledger, never edited.
CREATE TABLE reversals (
    decision_id TEXT PRIMARY KEY REFERENCES decisions(id),
    tenant      TEXT NOT NULL,
    ledger_seq  BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    reversed_by TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TRIGGER reversals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON reversals
FOR EACH STATEMENT EXECUTE FUNCTION incentive_append_only();
