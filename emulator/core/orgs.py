"""Organisations and bearer keys: the keys table, and which organisation a request's key acts for."""

from __future__ import annotations

import json
from pathlib import Path

from emulator.core.errors import APIError
from emulator.store import Organization, Store

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and password. You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)


def mask_key(key: str) -> str:
    """The real mask: first 8 characters, one '*' per hidden character, last 4 (short keys: 3 and 2)."""
    if len(key) > 12:
        return key[:8] + "*" * (len(key) - 12) + key[-4:]
    if len(key) > 5:
        return key[:3] + "*" * (len(key) - 5) + key[-2:]
    return "*" * len(key)


def incorrect_key(key: str) -> APIError:
    return APIError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def read_table(path: Path) -> dict[str, object]:
    """A JSON or TOML file's top-level table."""
    text = path.read_text(encoding="utf-8")
    try:
        table = json.loads(text)
    except json.JSONDecodeError:
        import tomllib  # only for a keys file that is not JSON

        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: neither JSON nor TOML ({exc})") from None
    if not isinstance(table, dict):
        raise ValueError(f"{path}: expected a table")
    return table


def load_keys(path: Path) -> dict[str, str]:
    """Read a JSON or TOML table of API key -> organisation name (a `webhooks` table, if any, is not a key)."""
    table = read_table(path)
    if isinstance(table.get("webhooks"), dict):
        table = {key: value for key, value in table.items() if key != "webhooks"}
    if not table:
        raise ValueError(f"{path}: expected a non-empty table of API key -> organisation name")
    for key, name in table.items():
        if not isinstance(name, str) or not name.strip() or not key.strip():
            raise ValueError(f"{path}: the organisation of key {key!r} must be a non-empty string")
    return {key: str(name) for key, name in table.items()}


class Authenticator:
    """Maps a bearer key to its organisation; without a keys table any non-empty key is the default one."""

    def __init__(self, store: Store, default_organization: str, keys: dict[str, str] | None, now: int) -> None:
        self._store = store
        self._keys = keys
        names = sorted(set(keys.values())) if keys else [default_organization]
        self.organizations = {name: store.ensure_organization(name, now) for name in names}
        self.default = self.organizations[names[0] if keys else default_organization]

    def organization_for(self, authorization: str | None, requested: str | None) -> Organization:
        key = _bearer_key(authorization)
        if not key:
            raise APIError(401, MISSING_KEY)
        if self._keys is None:
            organization = self.default
        elif key in self._keys:
            organization = self.organizations[self._keys[key]]
        else:
            raise incorrect_key(key)
        if requested and requested not in (organization.id, organization.name):
            raise APIError(
                401,
                "OpenAI-Organization header should match organization for API key",
                code="mismatched_organization",
            )
        return organization


def _bearer_key(authorization: str | None) -> str:
    if not authorization:
        return ""
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return key.strip()
