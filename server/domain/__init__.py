"""The shop's rules and vocabulary: policy, models, money, statuses, errors, not-found words.

It imports nothing of shopdesk above it.
"""
