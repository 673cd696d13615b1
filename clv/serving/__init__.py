"""clv.serving."""
