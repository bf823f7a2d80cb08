"""Provides the TUI's screens: Status, People, Keys, Audit, Backup."""
