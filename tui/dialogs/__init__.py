"""Provides the TUI's dialogs: confirmations, forms and notices."""
