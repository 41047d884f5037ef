"""netstrata.certainty layer."""
