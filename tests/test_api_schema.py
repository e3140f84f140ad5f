"""The API against its own OpenAPI description, with schemathesis: no server error, and every
answer (status, type, body) as the description says, for valid and invalid requests alike.

Bounded: a few dozen generated requests per operation and mode, in process (WSGI), seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webapp_fixtures import build_archive
from webapp import create_app

LIFTED = {"SEARCH_BURST": 1e9, "EXPORT_BURST": 1e9, "PAGE_BURST": 1e9, "TESTING": True}
EXAMPLES = 40


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Flask:
    data: Path = tmp_path_factory.mktemp("schema") / "data"
    build_archive(data)
    return create_app({"DATA_DIR": str(data), **LIFTED})


@pytest.fixture(scope="module")
def api(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE])
def test_the_api_keeps_its_description(api: schemathesis.BaseSchema,
                                       mode: schemathesis.GenerationMode) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/search", "GET /api/releases/{id}"}
    cases = st.one_of([op.as_strategy(generation_mode=mode) for op in operations])

    @given(case=cases)
    @settings(max_examples=EXAMPLES * len(operations), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        # the in-process transport does not decode compressed bodies, so ask for none; a query
        # string the description allows may still be refused by the query language (400,
        # documented), which JSON Schema cannot express: valid-looking data may be refused
        case.call_and_validate(headers={"Accept-Encoding": "identity"},
                               excluded_checks=[schemathesis.checks.positive_data_acceptance])

    check()
