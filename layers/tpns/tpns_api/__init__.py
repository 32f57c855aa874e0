"""The HTTP API v1 of the bundle: route contracts, answers, jobs, OpenAPI.

Plain Python over ``tpns_account``; ``tpns_api.lambda_adapter`` is the only module that knows
Lambda and Powertools.
"""
