"""Provides the encrypted database: SQLCipher through peewee, models and migrations."""
