-- The consoles' sessions are ASP.NET Core cookie authentication tickets kept in this table
-- (ConsoleTicketStore): the antiforgery service makes the forms' tokens, so a session no longer
-- keeps one. Revoking an operator's sessions finds them by operator.
ALTER TABLE console_sessions DROP COLUMN csrf_token;
CREATE INDEX console_sessions_by_operator ON console_sessions (merchant_id, operator_id);
