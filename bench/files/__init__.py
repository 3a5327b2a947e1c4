"""The file upload benchmark: ``python -m bench.files`` (docs/performance.md, "Files")."""
