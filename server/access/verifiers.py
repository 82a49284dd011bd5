"""The bearer tokens HTTP accepts: the SDK's bearer gate asks a `TokenVerifier` about each request's token."""

from __future__ import annotations

from mcp.server.auth.provider import AccessToken, TokenVerifier

from .tokens import AuthFile


class FileTokenVerifier(TokenVerifier):
    """Checks bearer tokens against the auth file, on every request."""

    def __init__(self, auth_file: AuthFile) -> None:
        self.auth_file = auth_file

    async def verify_token(self, token: str) -> AccessToken | None:
        record = self.auth_file.find(token)
        if record is None:
            return None
        return AccessToken(
            token=token,
            client_id=record.id,
            scopes=list(record.scopes),
            expires_at=record.expires_at,
            subject=record.subject,
            claims={"customer": record.customer} if record.customer else None,
        )
