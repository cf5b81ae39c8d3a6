"""Metrics and structured logs: what operators see of the bridge at work."""
