-- The gateway signs a reconciliation file as it serves it; settlement holds no signing key.
ALTER TABLE reconciliation_files DROP COLUMN signature;
