"""The edge: ASGI app, settings, authentication and the `paygraph` command. The one place
that wires db/ into the request context."""
