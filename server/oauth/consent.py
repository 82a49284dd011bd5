"""The consent page (GET and POST /oauth/consent): an operator signs in and decides what an app may do.

The SDK's /authorize sends the browser here (provider.authorize) with the id of the pending request.
Each page view gets a new one-time CSRF token, kept hashed with the pending request and also set as a
SameSite=Strict, HttpOnly cookie (double submit): a POST must bring both, equal, and spends it whatever
the outcome. The page is plain HTML without script; it may not be framed (X-Frame-Options, CSP
frame-ancestors), loads nothing from anywhere, sends no referrer and is never cached.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import AuthorizationParams
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..access.tokens import SCOPES
from ..storage.repositories import ownership
from . import links, operators
from .consent_page import Form, consent_page, message_page, signin_page
from .operators import OperatorError, SignInLimit
from .provider import CONSENT_PATH, ShopAuthorizationServer

COOKIE = "shopdesk_consent_csrf"
SESSION_COOKIE = "shopdesk_operator"  # a browser signed in by a sign-in link (links.py)
SIGNIN_COOKIE = "shopdesk_signin_csrf"
MAX_FORM_BYTES = 16 * 1024
HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
EXPIRED = (
    "This sign-in request has expired or was already answered",
    "Go back to the app and connect again.",
)


class ConsentPage:
    def __init__(self, provider: ShopAuthorizationServer) -> None:
        self.provider = provider
        self.limit = SignInLimit()
        self.secure = provider.issuer.startswith("https:")

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            operator = await self.signed_in(request)
            return await self.show(request.query_params.get("request", "")[:100], operator=operator)
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return _message("The form is too large", "Send at most 16 KiB.", 413)
        form = await request.form()
        fields = {key: str(value)[:2048] for key, value in form.items() if isinstance(value, str)}
        scopes = [str(s) for s in form.getlist("scope") if s in SCOPES]
        return await self.answer(request, fields, scopes)

    async def signed_in(self, request: Request) -> str | None:
        return await links.session_operator(self.provider.shop.db.read, request.cookies.get(SESSION_COOKIE, ""))

    async def show(self, request_id: str, **again: Any) -> Response:
        found = await self.provider.pending(request_id) if request_id else None
        if found is None:
            return _message(*EXPIRED, 400)
        client, params = found
        csrf = await self.provider.new_csrf(request_id)
        status = again.pop("status", 200)
        form = _form(request_id, csrf, client, params, **again)
        response = HTMLResponse(consent_page(form), status_code=status, headers=HEADERS)
        response.set_cookie(
            COOKIE, csrf, max_age=600, path=CONSENT_PATH, secure=self.secure, httponly=True, samesite="strict"
        )
        return response

    async def answer(self, request: Request, fields: dict[str, str], scopes: list[str]) -> Response:
        request_id, csrf = fields.get("request", "")[:100], fields.get("csrf", "")
        cookie = request.cookies.get(COOKIE, "")
        if await self.provider.pending(request_id) is None:
            return _message(*EXPIRED, 400)
        if not csrf or cookie != csrf or not await self.provider.take_csrf(request_id, csrf):
            return _message(
                "This form can no longer be sent",
                "It was sent already, or did not come from this page. Reload the page and answer again.",
                403,
            )
        if fields.get("action") == "deny":
            url = await self.provider.deny(request_id)
            return _message(*EXPIRED, 400) if url is None else _redirect(url)
        email, customer = fields.get("email", ""), fields.get("customer", "").strip()
        operator = await self.signed_in(request)
        again: dict[str, Any] = {"email": email, "customer": customer, "checked": scopes, "operator": operator}
        if operator is not None:
            return await self.grant(request_id, operator, scopes, customer, again)
        try:
            email = operators.normal_email(email)
        except OperatorError:
            return await self.show(request_id, error="Wrong email or password.", status=401, **again)
        if self.limit.blocked(email):
            error = "Too many wrong passwords for this address; wait 15 minutes and try again."
            return await self.show(request_id, error=error, status=429, **again)
        if not await operators.verify(self.provider.shop.db, email, fields.get("password", "")):
            self.limit.failed(email)
            return await self.show(request_id, error="Wrong email or password.", status=401, **again)
        self.limit.succeeded(email)
        return await self.grant(request_id, email, scopes, customer, again)

    async def grant(
        self, request_id: str, email: str, scopes: list[str], customer: str, again: dict[str, Any]
    ) -> Response:
        if not scopes:
            return await self.show(request_id, error="Choose at least one thing it may do.", status=400, **again)
        if customer and await ownership.owner(self.provider.shop.db.read, "customer", customer) is None:
            error = f"No customer has the user id {customer[:60]}."
            return await self.show(request_id, error=error, status=400, **again)
        url = await self.provider.approve(request_id, email, scopes, customer or None)
        return _redirect(url)


def _form(
    request_id: str,
    csrf: str,
    client: OAuthClientInformationFull,
    params: AuthorizationParams,
    *,
    checked: list[str] | None = None,
    email: str = "",
    customer: str = "",
    error: str | None = None,
    operator: str | None = None,
) -> Form:
    redirect = urlsplit(str(params.redirect_uri))
    return Form(
        request_id=request_id,
        csrf=csrf,
        client_name=client.client_name or "",
        client_id=client.client_id,
        redirect_host=f"{redirect.scheme}://{redirect.netloc}",
        scopes=SCOPES,
        checked=checked if checked is not None else [s for s in params.scopes or [] if s in SCOPES],
        email=email,
        customer=customer,
        error=error,
        operator=operator,
    )


def _message(title: str, text: str, status: int) -> Response:
    return HTMLResponse(message_page(title, text), status_code=status, headers=HEADERS)


def _redirect(url: str) -> Response:
    # 303: the browser follows with a GET, whatever the form's method was.
    return RedirectResponse(
        url, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


class SignInLink:
    """GET /oauth/signin?token=...: a button; its POST (with a double-submit CSRF token) spends the link and
    signs the browser in (an HttpOnly, SameSite=Lax session cookie for /oauth)."""

    def __init__(self, provider: ShopAuthorizationServer) -> None:
        self.provider = provider
        self.secure = provider.issuer.startswith("https:")

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            csrf = secrets.token_urlsafe(32)
            page = signin_page(request.query_params.get("token", "")[:100], csrf)
            response: Response = HTMLResponse(page, headers=HEADERS)
            response.set_cookie(
                SIGNIN_COOKIE,
                csrf,
                max_age=600,
                path=links.LINK_PATH,
                secure=self.secure,
                httponly=True,
                samesite="strict",
            )
            return response
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return _message("The form is too large", "Send at most 16 KiB.", 413)
        form = await request.form()
        csrf, token = str(form.get("csrf", "")), str(form.get("token", ""))[:100]
        if not csrf or request.cookies.get(SIGNIN_COOKIE) != csrf:
            return _message("This form can no longer be sent", "Open the sign-in link again.", 403)
        spent = await links.spend_link(self.provider.shop.db, token)
        if spent is None:
            return _message(
                "This sign-in link was used already or has expired",
                "Ask for a new one: shopdesk operator link EMAIL.",
                400,
            )
        email, session = spent
        response = _message("Signed in", f"Signed in as {email[:120]}. Go back to the app and connect it.", 200)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=links.SESSION_SECONDS,
            path="/oauth",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(SIGNIN_COOKIE, path=links.LINK_PATH)
        return response


def add_routes(server: Any, provider: ShopAuthorizationServer) -> None:
    """Serve the consent page and the sign-in links on `server` (an MCPServer), beside the SDK's routes."""
    # Bound methods, which Starlette wraps as request handlers (an instance would be taken for an ASGI app).
    server.custom_route(CONSENT_PATH, methods=["GET", "POST"])(ConsentPage(provider).handle)
    server.custom_route(links.LINK_PATH, methods=["GET", "POST"])(SignInLink(provider).handle)
