"""The settings of `serve --oauth-issuer`: what they build, and the mistakes they refuse in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopdesk.oauth.jwt_tokens import parse_scope_map
from shopdesk.oauth.resource_server import FirstAccepting, advertised_scopes, resource_server_auth
from shopdesk.settings import Settings, SettingsError
from shopdesk.transport.serve import check_exposure

ISSUER = "https://id.example/realms/shop"


def settings(tmp_path: Path, **more: object) -> Settings:
    return Settings(**{"db_path": tmp_path / "shop.sqlite3", "oauth_issuer": ISSUER, **more})  # type: ignore[arg-type]


def test_an_identity_provider_counts_as_authentication_on_a_public_address(tmp_path: Path) -> None:
    check_exposure(settings(tmp_path, host="0.0.0.0"), no_auth=False)  # no --no-auth-i-know needed


def test_without_one_a_public_address_still_needs_tokens(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="create a token first"):
        check_exposure(settings(tmp_path, host="0.0.0.0", oauth_issuer=None), no_auth=False)


def test_customer_with_an_identity_provider_points_to_the_customer_claim(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--oauth-customer-claim"):
        check_exposure(settings(tmp_path, customer="noah_brown_6181"), no_auth=False)


def test_an_identity_provider_and_the_own_sign_in_together_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="choose one") as refused:
        check_exposure(settings(tmp_path, oauth_server=True), no_auth=False)
    assert "\n" not in str(refused.value)


def test_the_metadata_names_the_provider_and_the_public_mcp_url(tmp_path: Path) -> None:
    auth = resource_server_auth(settings(tmp_path, public_url="https://shop.example/mcp"))["auth"]
    assert (str(auth.issuer_url), str(auth.resource_server_url)) == (ISSUER, "https://shop.example/mcp")
    assert auth.required_scopes is None


def test_the_audience_defaults_to_the_public_mcp_url(tmp_path: Path) -> None:
    verifier = resource_server_auth(settings(tmp_path, public_url="https://shop.example/mcp"))["token_verifier"]
    assert isinstance(verifier, FirstAccepting)
    assert verifier.verifiers[0].rules.audience == "https://shop.example/mcp"  # type: ignore[attr-defined]


def test_introspection_without_shopdesks_client_secret_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SHOPDESK_OAUTH_CLIENT_SECRET"):
        resource_server_auth(settings(tmp_path, oauth_introspection_url=f"{ISSUER}/introspect"))


def test_an_issuer_that_is_no_url_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--oauth-issuer must be an https:// URL"):
        resource_server_auth(settings(tmp_path, oauth_issuer="id.example"))


def test_the_advertised_scopes_use_the_providers_names_where_the_map_renames_them() -> None:
    scopes = advertised_scopes(parse_scope_map("Orders.Read=orders:read,Orders.Write=orders:write"))
    assert "Orders.Read" in scopes and "orders:read" not in scopes and "catalog:read" in scopes
