"""Storage: the database engine and sessions, the tables, migrations, and the record of scheduled work."""
