"""Gembok: WhatsApp customer service on the Cloud API, customer data encrypted on the box."""

__version__ = "0.1.0"
