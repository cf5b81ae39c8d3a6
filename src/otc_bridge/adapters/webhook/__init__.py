"""Webhook receivers: where a webhook may point (`address`) and the signed POST (`sender`)."""
