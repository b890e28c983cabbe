"""Pure numerics on numpy/pandas; nothing here imports the rest of the app."""
