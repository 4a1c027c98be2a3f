"""The one way PDFs fetch what their HTML points at (WeasyPrint): only the schemes a document needs, never the
network. A refused address is left out of the PDF (WeasyPrint logs it); it never fails the render."""


def url_fetcher(*schemes: str):
    """A WeasyPrint fetcher allowing only these URL schemes: "file" for the app's own static files (aftercare
    sheets, reports), "data" for images inlined into the page (the patient's copy)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=list(schemes))
