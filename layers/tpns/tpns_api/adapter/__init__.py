"""The Lambda side of the bundle: the only code that knows API Gateway events and Powertools.

``api.Api`` owns an API function's request cycle (event → request → route → answer),
``events`` reads API Gateway's proxy events, ``routing`` matches paths, ``observability``
holds the Powertools logger and metrics every function shares.
"""
