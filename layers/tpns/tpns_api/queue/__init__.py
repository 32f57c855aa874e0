"""The queue and S3 workflows: the bulk consumer and the scheduled cleanup (the job producer
is ``tpns_api.jobs.submit``).

``sqs`` sends messages (one batching loop, one failure rule), ``messages`` reads and writes the
bulk queue's message format, ``bulk`` consumes it, ``cleanup`` turns manifests into messages.
"""
