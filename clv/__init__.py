"""clv: customer lifetime value and churn."""
