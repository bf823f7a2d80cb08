"""Provides `python -m appliance`, the same as the `gembok` command."""

from appliance.cli import main

main()
