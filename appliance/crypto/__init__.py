"""Provides the key hierarchy: master key, keyring, field sealing and blind indexes."""
