"""All SQL lives here, one module per aggregate. Functions take the connection to run on:
`db.read` for queries, or the connection a `db.transaction()` yields for a read-check-write."""
