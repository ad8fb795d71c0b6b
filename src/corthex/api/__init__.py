"""The server: REST API, WebSocket events and the dashboard (`corthex serve`)."""

from corthex.api.app import create_app

__all__ = ["create_app"]
