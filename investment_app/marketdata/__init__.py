"""Market data: the price store, its sources (the bundled dataset first) and their validation."""
