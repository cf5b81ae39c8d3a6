"""The service layer: use cases the entry points call (create, match, cancel, reads)."""
