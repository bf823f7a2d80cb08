"""Provides Auto Reply: rules, business hours, menus and broadcasts that answer customers."""
