"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
README_PATH = ROOT / "README.md"
LAYER_DIR = ROOT / "layers" / "tpns"
EVENTS_DIR = ROOT / "events"
API_EVENTS_DIR = EVENTS_DIR / "api"
# The vendor's sample requests, by endpoint and operator type.
SEED_REQUESTS_PATH = EVENTS_DIR / "tpns" / "seed-requests.json"
OPENAPI_PATH = ROOT / "docs" / "openapi.json"
