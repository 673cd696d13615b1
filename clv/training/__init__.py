"""clv.training."""
