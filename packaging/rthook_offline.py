"""PyInstaller runtime hook: with VRAMPLAN_NO_NETWORK=1 the bundle cannot open any socket.

vramplan never uses the network; this guard lets a smoke test prove it where
``unshare -n`` is not available (Windows, macOS, unprivileged CI).  Every
attempt raises ``OSError`` naming the call, so the selftest fails loudly
instead of reaching out.  ``socket.socket`` stays a class (``ssl`` subclasses
it at import) whose constructor refuses.
"""

import os
import socket


def _install_socket_guard() -> None:
    def refusal(name):
        return OSError(f"vramplan: network access attempted ({name}) while VRAMPLAN_NO_NETWORK=1")

    class GuardedSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise refusal("socket.socket")

    def guard(name):
        def refuse(*args, **kwargs):
            raise refusal(f"socket.{name}")
        return refuse

    socket.socket = GuardedSocket
    for name in ("create_connection", "getaddrinfo", "create_server"):
        setattr(socket, name, guard(name))


if os.environ.get("VRAMPLAN_NO_NETWORK") == "1":
    _install_socket_guard()
