"""Provides the Chatroom's core: customers, conversations, messages (routing and rules to come)."""
