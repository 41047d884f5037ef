"""netstrata.data layer."""
