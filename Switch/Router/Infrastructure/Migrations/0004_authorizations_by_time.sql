-- The ledger takes the switch's authorizations in by time window (interbank clearing) and
-- three-way reconciliation lists a day of them: both read by received time.
CREATE INDEX authorizations_by_created_at ON authorizations (created_at);
