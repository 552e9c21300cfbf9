"""The HTTP edge: Starlette app, GraphQL endpoint, health, logging, the `hub` command."""
