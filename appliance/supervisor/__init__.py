"""Provides `gembok run`: the whole appliance in one foreground process, for the quick start."""
