"""Where the shop lives: the SQLite and PostgreSQL backends, schema and migrations, the read pool, and the
repositories, which hold all the SQL.
"""
