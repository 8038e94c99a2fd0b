"""Validation against published runs: cases in ``resources/validation/``, checked by ``vramplan validate``."""
