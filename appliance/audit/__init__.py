"""Provides the audit package."""
