"""Logging, metrics, request context. A leaf: anyone may import it; it imports no layer."""
