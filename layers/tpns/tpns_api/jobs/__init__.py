"""Jobs you can watch: their records, idempotency keys, and how /v1/jobs queues them."""
