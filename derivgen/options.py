"""Choices shared by the command line, the deck files and the presenter (no heavy imports here)."""

DETAILS = ("full", "normal", "brief")
