"""Who may do what: callers, scopes, customer binding, read-only mode, and the verifiers of bearer tokens."""
