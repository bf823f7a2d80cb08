"""Provides a local stand-in for Meta's Graph API (a stub for now)."""
