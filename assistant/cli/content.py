"""Content commands: ingest, search, sources, sync, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import urlparse

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, err, out
from assistant.cli._common import open_container as _container
from assistant.cli._common import print_json as _print_json
from assistant.cli._common import progress_line as _progress
from assistant.container import Container, build_container
from assistant.settings import load_settings
from connectors.base import ConnectorError
from connectors.files.connector import DEFAULT_EXCLUDES
from knowledge.documents import SearchFilters, Visibility
from knowledge.sync_state import SyncAlreadyRunning


def _source_for_path(
    container: Container,
    target: str,
    source: str | None,
    visibility: Visibility,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> str:
    """Register (or update) the source behind an ``ingest`` argument; returns its name."""
    config: dict[str, Any] = {"visibility": visibility, "max_bytes": container.settings.ingest.max_document_bytes}
    if urlparse(target).scheme in ("http", "https"):
        name = source or urlparse(target).hostname or "web"
        config |= {"start_url": target} | {k: v for k, v in (("include", include), ("exclude", exclude)) if v}
        _register(container, name, "web", config)
        return name
    path = Path(target).expanduser().resolve()
    if not path.exists():
        raise CliError(f"{target}: no such file or folder")
    root, include = (path, include or ["**/*"]) if path.is_dir() else (path.parent, [path.name])
    name = source or root.name
    existing = container.sync_state.get_source(name)
    if existing is not None and source is None and existing.config.get("root") not in (None, str(root)):
        raise CliError(f"a source called {name!r} already indexes {existing.config['root']}; pass --source NAME")
    config |= {"root": str(root), "include": include}
    if exclude:
        config["exclude"] = [*DEFAULT_EXCLUDES, *exclude]
    _register(container, name, "files", config)
    return name


def _register(container: Container, name: str, kind: str, config: dict[str, Any]) -> None:
    try:
        container.register_source(name, kind, config)
    except ValueError as exc:  # pydantic's ValidationError included
        raise CliError(f"source {name!r}: {exc}") from exc


def _run_syncs(container: Container, names: list[str], as_json: bool) -> dict[str, Any]:
    reports = []
    for name in names:
        with _progress(f"syncing {name}") as advance:
            try:
                report = container.sync(name, progress=advance)
            except (SyncAlreadyRunning, ConnectorError) as exc:
                raise CliError(f"{name}: {exc}") from exc
        reports.append(report.to_dict())
        if not as_json:
            _print_report(reports[-1])
    totals = {key: sum(r[key] for r in reports) for key in ("added", "updated", "deleted", "unchanged", "chunks", "embedded")}
    return {
        **totals,
        "failed": [{"source": r["source"], **f} for r in reports for f in r["failed"]],
        "seconds": round(sum(r["seconds"] for r in reports), 3),
        "sources": reports,
    }


def _print_report(report: dict[str, Any]) -> None:
    out.print(
        f"[bold]{report['source']}[/]: {report['added']} added, {report['updated']} updated, "
        f"{report['deleted']} deleted, {report['unchanged']} unchanged, {report['chunks']} chunks written, "
        f"{len(report['failed'])} failed in {report['seconds']:.1f}s"
    )
    for entity, counts in report.get("records", {}).items():
        out.print(f"  {entity}: {counts['added']} added, {counts['updated']} updated, "
                  f"{counts['deleted']} deleted, {counts['unchanged']} unchanged")
    for warning in report["warnings"][:50]:
        out.print(f"  [yellow]warning[/] {warning['uri']}: {warning['warning']}")
    for failure in report["failed"][:50]:
        out.print(f"  [red]failed[/] {failure['uri']}: {failure['reason']}")
    if len(report["failed"]) > 50:
        out.print(f"  … and {len(report['failed']) - 50} more failures (see --json)")


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Folders, files or http(s) URLs (a site or its sitemap.xml).")],
    visibility: Annotated[Visibility, typer.Option(help="Who may see this content.")] = Visibility.PUBLIC,
    source: Annotated[Optional[str], typer.Option(help="Source name (default: the folder's name or the host).")] = None,
    include: Annotated[Optional[list[str]], typer.Option(help="Only files (or URL paths) matching this glob; repeatable.")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(help="Skip files (or URL paths) matching this glob; repeatable.")] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Index content; re-running it only touches what changed."""
    with _container(workspace) as container:
        names = list(dict.fromkeys(_source_for_path(container, p, source, visibility, include, exclude) for p in paths))
        summary = _run_syncs(container, names, as_json)
    if as_json:
        _print_json(summary)


@app.command()
def search(
    query: Annotated[Optional[str], typer.Argument(help="What to look for.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Number of hits.")] = 5,
    visibility: Annotated[Optional[Visibility], typer.Option(help="Only content with this visibility.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Only content in this language (de, en, ...).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only these sources (repeatable).")] = None,
    account: Annotated[Optional[list[str]], typer.Option(help="Account-scoped content only of these account ids (repeatable); content of no account stays.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or keyword.")] = "hybrid",
    queries: Annotated[Optional[Path], typer.Option(help="File with one query per line; prints one JSON line each.")] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Search the indexed content (hybrid dense + keyword retrieval)."""
    if mode not in ("hybrid", "dense", "keyword"):
        raise CliError(f"--mode must be hybrid, dense or keyword, not {mode!r}")
    if (query is None) == (queries is None):
        raise CliError("give either a QUERY or --queries FILE")
    filters = SearchFilters.of(visibility.value if visibility else None, language, source, account)
    with _container(workspace) as container:
        retriever = container.retriever
        if queries is not None:
            try:
                lines = queries.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise CliError(f"cannot read {queries}: {exc}") from exc
            for line in lines:
                hits = retriever.search(line, k, filters, mode) if line.strip() else []  # type: ignore[arg-type]
                _print_json([h.to_dict() for h in hits])
            return
        hits = retriever.search(query or "", k, filters, mode)  # type: ignore[arg-type]
    if as_json:
        _print_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print("No results.")
    for rank, hit in enumerate(hits, start=1):
        where = f"{hit.title} > {hit.section}" if hit.section else hit.title
        out.print(f"[bold]{rank}. {where}[/]  [dim]{hit.source}:{hit.uri} ({hit.language}, {hit.score:.4f})[/]")
        snippet = " ".join(hit.text.split())
        out.print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}\n", highlight=False)


@app.command()
def sources(workspace: Workspace = None, as_json: JsonFlag = False) -> None:
    """List sources with their last sync, counts, errors and freshness."""
    with _container(workspace) as container:
        statuses = [s.to_dict() for s in container.sync_state.statuses()]
    if as_json:
        _print_json(statuses)
        return
    table = Table("source", "kind", "documents", "chunks", "records", "last sync", "status", "failed", "where")
    for s in statuses:
        where = s["config"].get("root") or s["config"].get("start_url") or s["config"].get("instance_url") or s["config"].get("base_url") or ""
        table.add_row(s["name"], s["kind"], str(s["documents"]), str(s["chunks"]), str(s["records"]), (s["last_sync_at"] or "never")[:19],
                      s["last_status"] or "-", str(s["failed_items"]), where)
    out.print(table)


@app.command()
def sync(
    name: Annotated[Optional[str], typer.Argument(help="Source to sync (default: all); `hubspot` or `salesforce` sync the CRM configured in the settings.")] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Re-sync one source or all of them."""
    with _container(workspace) as container:
        known = [s.name for s in container.sync_state.statuses()]
        if name in ("hubspot", "salesforce") and name not in known:
            try:
                name = container.crm_source(name)
            except ValueError as exc:
                raise CliError(str(exc)) from exc
        elif name is not None and name not in known:
            raise CliError(f"no source called {name!r}; known: {', '.join(known) or 'none (run journey ingest first)'}")
        summary = _run_syncs(container, [name] if name else known, as_json)
    if as_json:
        _print_json(summary)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from settings: 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default from settings: 8080).")] = None,
    workspace: Workspace = None,
) -> None:
    """Start the HTTP API."""
    import uvicorn

    from assistant.api import create_app

    settings = load_settings(workspace=workspace)
    container = build_container(settings)
    err.print(f"Journey Assistant on http://{host or settings.api.host}:{port or settings.api.port} (workspace {settings.workspace})")
    try:
        uvicorn.run(create_app(container), host=host or settings.api.host, port=port or settings.api.port, log_level="info")
    finally:
        container.close()
