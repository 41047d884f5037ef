"""netstrata.synthesis layer."""
