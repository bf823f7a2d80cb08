"""Provides notifications to staff: e-mail over SMTP, and alerts by e-mail and WhatsApp."""
