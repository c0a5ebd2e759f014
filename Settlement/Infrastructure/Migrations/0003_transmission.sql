-- With the STAN, the transmission time (ISO 8583 field 7) keys a movement at the switch and the
-- bank: three-way reconciliation matches on both.
ALTER TABLE journal_entries ADD COLUMN transmission text;
CREATE INDEX journal_entries_by_message ON journal_entries (stan, transmission) WHERE stan IS NOT NULL;
