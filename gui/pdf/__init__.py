"""PDF plan summaries (Qt's own PDF writer, vector throughout)."""

from gui.pdf.report import export_pdf

__all__ = ["export_pdf"]
