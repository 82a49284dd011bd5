"""OAuth 2.1, both ways.

shopdesk as a resource server of an identity provider (`serve --oauth-issuer`): issuer.py discovers the
provider and keeps its signing keys; jwt_tokens.py checks JWT access tokens and turns them into the SDK's
AccessToken; introspection.py asks the provider about opaque tokens (RFC 7662); resource_server.py builds
the verifier from the settings.

shopdesk as its own authorization server (`serve --oauth-server`): the provider behind the SDK's routes
(provider.py), its tables (store.py), the consent page (consent.py) and its operators (operators.py).
"""
