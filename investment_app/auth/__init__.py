"""Authentication: password hashing, sessions, sign-in rate limits and role checks."""
