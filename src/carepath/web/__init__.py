"""The HTTP and WebSocket face of carepath."""

from carepath.web.app import create_app

__all__ = ["create_app"]
