"""Offline importers: config.json, safetensors and GGUF headers (local files only)."""
