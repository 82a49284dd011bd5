"""shopdesk's own OAuth 2.1 authorization server (`serve --oauth-server`): the provider behind the SDK's
routes (provider.py), its tables (store.py), the consent page (consent.py) and its operators (operators.py)."""
