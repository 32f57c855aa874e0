"""The HTTP API v1 as plain Python: requests in, answers out (no Lambda event shapes; the docs
page serves Swagger UI's files from the Powertools package, and nothing else of it).

``request`` describes what arrived, ``contract`` parses it straight into the library's models,
``answers`` shapes results, ``errors`` maps every exception to its answer, ``openapi`` is the
spec built from the same limits the validators use.
"""
