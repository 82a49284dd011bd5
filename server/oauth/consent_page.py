"""The consent page's HTML: one small form, no script, every value from the request escaped and shortened."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from html import escape

from ..domain.errors import excerpt

SCOPE_LABELS = {
    "customers:read": "read customers' profiles",
    "customers:write": "change customers' addresses",
    "orders:read": "read orders",
    "orders:write": "cancel, change, return and exchange orders",
    "catalog:read": "read the product catalogue",
    "tickets:read": "read support tickets",
    "tickets:write": "open, answer and escalate tickets",
    "admin": "everything, including the audit log",
}

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #1d1d1b; }
main { max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border: 1px solid #ccc; }
h1 { font-size: 1.35rem; margin-top: 0; }
fieldset { border: 1px solid #ccc; margin: 1rem 0; padding: .5rem 1rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
label { display: block; margin: .5rem 0 .15rem; }
label.check { margin: .3rem 0; }
input[type=email], input[type=password], input[type=text] { width: 100%; box-sizing: border-box; padding: .4rem;
  font: inherit; border: 1px solid #767676; }
:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.error { color: #a51d2d; font-weight: 600; border-left: 4px solid #a51d2d; padding-left: .5rem; }
.hint { color: #555; font-size: .9rem; margin: .2rem 0; }
button { font: inherit; padding: .45rem 1.2rem; margin-right: .75rem; border: 1px solid #1d1d1b; cursor: pointer; }
button.allow { background: #1a5fb4; color: #fff; border-color: #1a5fb4; }
code { font-size: .95rem; }
"""


@dataclass(frozen=True)
class Form:
    request_id: str
    csrf: str
    client_name: str
    client_id: str
    redirect_host: str
    scopes: Collection[str]  # shopdesk's scopes, in order
    checked: Collection[str]
    email: str = ""
    customer: str = ""
    error: str | None = None
    operator: str | None = None  # signed in already, by a sign-in link: no password asked


def _sign_in(form: Form) -> str:
    if form.operator is not None:
        return f"<p>Signed in as <strong>{_text(form.operator, 120)}</strong> by a sign-in link.</p>"
    return f"""<fieldset>
<legend>Sign in as an operator</legend>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus maxlength="320"
 value="{_text(form.email, 320)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
</fieldset>"""


def _text(value: str, limit: int = 80) -> str:
    return escape(excerpt(value, limit), quote=True)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def consent_page(form: Form) -> str:
    name = _text(form.client_name or "An app", 60)
    checks = "\n".join(
        f'<label class="check"><input type="checkbox" name="scope" value="{_attr(scope)}"'
        f"{' checked' if scope in form.checked else ''}> <code>{_attr(scope)}</code>: "
        f"{escape(SCOPE_LABELS.get(scope, scope))}</label>"
        for scope in form.scopes
    )
    error = f'<p class="error" role="alert">{_text(form.error, 200)}</p>' if form.error else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow {name} to use this shop? · shopdesk</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>Allow <strong>{name}</strong> to use this shop?</h1>
<p class="hint">Client id <code>{_text(form.client_id, 60)}</code>; after you answer, your browser goes back to
<code>{_text(form.redirect_host, 80)}</code>.</p>
{error}
<form method="post" action="consent">
<input type="hidden" name="request" value="{_attr(form.request_id)}">
<input type="hidden" name="csrf" value="{_attr(form.csrf)}">
{_sign_in(form)}
<fieldset>
<legend>What it may do</legend>
{checks}
</fieldset>
<fieldset>
<legend>Only one customer (optional)</legend>
<label for="customer">Customer's user id</label>
<input id="customer" name="customer" type="text" maxlength="100" aria-describedby="customer-hint"
 value="{_text(form.customer, 100)}">
<p class="hint" id="customer-hint">Leave empty to let it reach every customer's records.</p>
</fieldset>
<button class="allow" type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny" formnovalidate>Deny</button>
</form>
</main>
</body>
</html>
"""


def signin_page(token: str, csrf: str) -> str:
    """The page a sign-in link opens: one button, so that only a person's click spends the link."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · shopdesk</title><style>{_STYLE}</style></head>
<body><main><h1>Sign in to approve apps</h1>
<form method="post" action="signin">
<input type="hidden" name="token" value="{_attr(token)}">
<input type="hidden" name="csrf" value="{_attr(csrf)}">
<button class="allow" type="submit" autofocus>Sign in</button>
</form></main></body>
</html>
"""


def message_page(title: str, text: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(title)} · shopdesk</title><style>{_STYLE}</style></head>
<body><main><h1>{escape(title)}</h1><p>{escape(text)}</p></main></body>
</html>
"""
