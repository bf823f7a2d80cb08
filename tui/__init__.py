"""Provides the admin TUI: the IT admin's one place on the box (`gembok admin`)."""
