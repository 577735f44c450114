"""Admin-only operations: the audit trail and the permanent purge of soft-deleted rows."""
