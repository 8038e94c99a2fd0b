"""Nothing in vramplan opens a network connection: the whole selftest runs with sockets disabled."""

from __future__ import annotations

import socket

import pytest

from gui import selftest


@pytest.fixture
def network_attempts(monkeypatch) -> list[str]:
    """Disable sockets; every attempt raises OSError and is recorded (in case a caller swallows it)."""
    attempts: list[str] = []

    def refuse(name: str):
        def refused(*args, **kwargs):
            attempts.append(f"{name}{args!r}")
            raise OSError(f"network access attempted in an offline test: {name}")
        return refused

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse("socket.socket")(*args)

    monkeypatch.setattr(socket, "socket", NoSocket)
    for name in ("create_connection", "getaddrinfo", "create_server"):
        monkeypatch.setattr(socket, name, refuse(f"socket.{name}"))
    return attempts


def test_the_guard_really_blocks_sockets(network_attempts):
    with pytest.raises(OSError):
        socket.create_connection(("example.org", 80), timeout=1)
    with pytest.raises(OSError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.org", 443)
    assert len(network_attempts) == 3


def test_selftest_passes_without_network(tmp_path, capsys, network_attempts):
    code = selftest.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert network_attempts == [], f"vramplan tried the network: {network_attempts}"


def test_bundle_runtime_hook_blocks_sockets_when_asked():
    """packaging/rthook_offline.py (run first in the bundle) refuses sockets under VRAMPLAN_NO_NETWORK=1."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    hook = Path(__file__).resolve().parents[1] / "packaging" / "rthook_offline.py"
    probe = (
        f"import runpy, socket; runpy.run_path({str(hook)!r})\n"
        "for call in (lambda: socket.socket(), lambda: socket.create_connection(('127.0.0.1', 9), timeout=1),\n"
        "             lambda: socket.getaddrinfo('localhost', 80)):\n"
        "    try:\n"
        "        call()\n"
        "    except OSError as e:\n"
        "        print('refused' if 'VRAMPLAN_NO_NETWORK' in str(e) else 'other error')\n"
        "    else:\n"
        "        print('allowed')\n"
        "import ssl  # subclasses socket.socket at import: must still import\n"
    )
    outcomes = {}
    for flag in ("1", ""):
        env = {**os.environ, "VRAMPLAN_NO_NETWORK": flag}
        result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outcomes[flag] = result.stdout.split()
    assert outcomes["1"] == ["refused"] * 3
    assert "refused" not in outcomes[""]  # without the flag the hook changes nothing
