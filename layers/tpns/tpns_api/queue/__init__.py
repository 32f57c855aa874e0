"""The queue and S3 workflows: the bulk consumer, the job producer, the scheduled cleanup.

``sqs`` sends messages (one batching loop, one failure rule) and dead-letters them,
``messages`` reads and writes the bulk queue's message format.
"""
