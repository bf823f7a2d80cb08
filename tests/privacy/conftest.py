"""The DPO kit tests run on the WhatsApp tests' appliance (credentials set, no Meta)."""

from tests.whatsapp.conftest import wa_rt, wa_settings  # noqa: F401
