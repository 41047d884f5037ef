"""netstrata.taxonomy layer."""
