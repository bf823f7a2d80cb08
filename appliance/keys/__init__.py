"""Provides the keys package."""
