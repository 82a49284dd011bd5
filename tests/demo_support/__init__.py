"""Test doubles for the demo client: a fake Messages API that speaks the real wire format."""
