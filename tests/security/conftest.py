"""The security regression tests run against the served app of the API tests."""

from tests.api.conftest import gql, served, world  # noqa: F401 - fixtures
