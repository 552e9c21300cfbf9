"""Thin resolvers: per-request DataLoaders, fan-out to departments, merge, partial errors.

They return unified rows (dicts); the schema layer wraps them in GraphQL types.
"""
