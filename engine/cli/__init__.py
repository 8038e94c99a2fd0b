"""The engine's command line (no Qt): ``python -m engine`` or the ``vramplan`` command."""
