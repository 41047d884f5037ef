"""netstrata.present layer."""
