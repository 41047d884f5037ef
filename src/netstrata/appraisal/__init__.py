"""netstrata.appraisal layer."""
