"""The web UI (Gradio: visitor widget, rep console, marketer insights, admin).

It calls the API layer's services and holds no business logic; it arrives with the web UI
issue of the roadmap.
"""
