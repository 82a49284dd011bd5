"""The one path every write takes: idempotency, the person's confirmation, the transaction, the audit row."""
