"""Provides staff accounts: passwords, and later TOTP, roles, permissions and lockout."""
