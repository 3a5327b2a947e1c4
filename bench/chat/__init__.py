"""The chat load generator: see ``python -m bench.chat --help`` and docs/performance.md."""
