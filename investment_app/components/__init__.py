"""Reusable UI: the layout shell, the PWA head tags."""
