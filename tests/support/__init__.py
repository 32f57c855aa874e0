"""What the tests share: constants, helpers and small classes, imported by tests and fixtures.

The ``conftest.py`` files hold fixtures only; everything they and the tests have in common lives
in the modules of this package, each named for what it holds:

- ``paths``: where the repository, its template and its event fixtures are.
- ``apps``: the TPNS apps the tests know (canary keys) and the secret shapes that hold them.
- ``aws``: the fake AWS environment and typed boto3 clients to the moto server.
- ``layer_clients``: how the layer's ``TpnsClient`` is built against the emulator.
- ``lambda_runtime``: the functions imported in-process, a fake Lambda context, their settings.
- ``api_events``: API Gateway events from ``events/api/``, the functions' answers, invoking them.
- ``bulk``: the bulk function on real queues (``BulkRig``).
- ``processes``: free ports, waiting for a port, process trees.
- ``polling``: ``eventually``, for what TPNS and the queues do asynchronously.
- ``local_stack``: ``python -m local_stack`` started as a subprocess and used over HTTP.
- ``cli``: ``tpns-bindings`` run in-process on captured rich consoles, a fake jobs API.
- ``template``: template.yaml loaded and transformed offline, and pure helpers over it.
- ``vector``: the vendor's documented signing test vector.
- ``tpns_client``: an independent signing TPNS client for the emulator tests.
"""

import pkgutil

import pytest

# Helpers here assert too: rewrite their asserts like the tests', for the same failure messages
# (by module name: this package itself is already being imported).
pytest.register_assert_rewrite(*(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)))
