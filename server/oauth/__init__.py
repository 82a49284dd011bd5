"""shopdesk as an OAuth 2.1 resource server: it accepts access tokens an identity provider issued.

issuer.py discovers the provider and keeps its signing keys; jwt_tokens.py checks JWT access tokens and
turns them into the SDK's AccessToken; introspection.py asks the provider about opaque tokens (RFC 7662).
"""
