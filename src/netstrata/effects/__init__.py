"""netstrata.effects layer."""
