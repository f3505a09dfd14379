"""Loopback ports for the local servers: bind first, so a busy port fails fast and clearly."""

from __future__ import annotations

import errno
import socket


class PortInUse(Exception):
    """The port is taken by another program; the message names it (French, then English)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        super().__init__(
            f"Le port {port} est déjà utilisé sur {host} : arrêtez le programme qui l'occupe "
            f"ou choisissez un autre port (--port). / Port {port} is already in use on {host}."
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (0 picks a free port), or PortInUse.

    The servers are then built on this socket (werkzeug's `fd=`), so nothing can take
    the port between the check and the start.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As werkzeug does: lets a restart reuse a port left in TIME_WAIT; a port that
        # another process listens on still refuses the bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port, host) from None
        raise
    return sock


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]
