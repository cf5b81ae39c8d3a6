"""Settlement: the one driver that moves every in-flight order, and what runs it."""
