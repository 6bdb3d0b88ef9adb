-- A simulation may be cancelled by its tenant (`DELETE /v1/simulations/{id}`): the status
-- `cancelled` joins the others. The constraint is the one PostgreSQL named for the column's
-- CHECK in 0005.
ALTER TABLE simulations DROP CONSTRAINT simulations_status_check;
ALTER TABLE simulations ADD CONSTRAINT simulations_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
