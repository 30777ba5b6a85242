"""The agreed plan on paper: PDF rendering from a snapshot dict.

`PdfRenderer` (from here) renders in long-lived worker processes with a time and
memory limit and raises `PdfError` when a render cannot finish; the route calls its
blocking `render()` from FastAPI's thread pool. `backend.export.pdf.render_pdf` is
the same rendering in the calling process (the workers and the tests use it).
"""

from backend.export.worker import PdfError, PdfRenderer

__all__ = ["PdfError", "PdfRenderer"]
