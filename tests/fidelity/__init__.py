"""Fidelity harness: measure what PyTorch really keeps and compare it with the engine (issue 8)."""
