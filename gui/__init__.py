"""vramplan's PySide6 desktop app (views of the engine's plan and estimate)."""
