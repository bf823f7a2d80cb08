"""Provides everything WhatsApp: the Cloud API client, webhook handling and the simulator."""
