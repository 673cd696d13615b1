"""clv.models."""
