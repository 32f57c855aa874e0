"""TPNS account bindings: validated requests, a complete client, and credentials.

A plain library, usable from any Python program; it knows TPNS, not Lambda. Importing it does
not import boto3 or botocore: Secrets Manager is reached only when a secret is first read.

    from tpns_account import TpnsClient, AppCredentials, TokenAccounts, Account
    client = TpnsClient(AppCredentials("1500001048", key), endpoint="guangzhou")
    client.bind([TokenAccounts("token1", (Account("926@126.com"),))])
"""

from __future__ import annotations

from tpns_account.client import TpnsClient
from tpns_account.credentials import (
    AppCredentials,
    CredentialsProvider,
    SecretsManagerCredentials,
    StaticCredentials,
    parse_secret,
)
from tpns_account.errors import (
    AppStateError,
    AuthError,
    BadRequestError,
    ConfigurationError,
    CredentialsError,
    CredentialsUnavailableError,
    FieldIssue,
    RequestValidationError,
    RetryableError,
    SecretFormatError,
    SettingsError,
    ThrottledError,
    TpnsError,
    UnexpectedResponseError,
    UnknownAppError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tpns_account.models import (
    Account,
    BatchOperation,
    OperatorType,
    Query,
    QueryType,
    TokenAccounts,
)
from tpns_account.pacing import Pacing, RetryPolicy
from tpns_account.results import (
    BatchResult,
    ItemResult,
    ItemsFailedError,
    QueryItem,
    QueryResult,
)
from tpns_account.settings import Settings

__all__ = [
    "Account",
    "AppCredentials",
    "AppStateError",
    "AuthError",
    "BadRequestError",
    "BatchOperation",
    "BatchResult",
    "ConfigurationError",
    "CredentialsError",
    "CredentialsProvider",
    "CredentialsUnavailableError",
    "FieldIssue",
    "ItemResult",
    "ItemsFailedError",
    "OperatorType",
    "Pacing",
    "Query",
    "QueryItem",
    "QueryResult",
    "QueryType",
    "RequestValidationError",
    "RetryPolicy",
    "RetryableError",
    "SecretFormatError",
    "SecretsManagerCredentials",
    "Settings",
    "SettingsError",
    "StaticCredentials",
    "ThrottledError",
    "TokenAccounts",
    "TpnsClient",
    "TpnsError",
    "UnexpectedResponseError",
    "UnknownAppError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
    "parse_secret",
]
