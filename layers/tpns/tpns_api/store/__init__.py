"""State the bundle keeps in DynamoDB: jobs, and the binding ledger."""
