"""Use cases that combine the database and the domain code; they return plain data."""
