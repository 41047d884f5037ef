"""netstrata.ma layer."""
