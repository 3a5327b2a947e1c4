"""Sodam (소담): an on-premises corporate messenger."""

__version__ = "0.1.0"
