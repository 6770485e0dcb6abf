#!/usr/bin/env bash
# Run the whole test suite (sets up first). PostgreSQL/Redis tests skip when the servers are
# absent, unless XXGK_REQUIRE_SERVICES=1 (CI), where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
