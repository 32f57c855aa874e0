"""The binding ledger: desired state per app, token and account type; last issued wins."""
