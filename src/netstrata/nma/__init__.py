"""netstrata.nma layer."""
