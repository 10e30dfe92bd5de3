"""Turn raw documents (Markdown, reStructuredText, HTML, PDF, DOCX, plain text) into sections.

``load_document(doc)`` picks the loader by media type or file extension and returns a
``ParsedDocument``; anything it cannot read raises ``LoaderError`` with a reason a user can act on.
"""
