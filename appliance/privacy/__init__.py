"""Provides UU PDP machinery: the audit chain, and later DSAR, erasure, retention, breach report."""
