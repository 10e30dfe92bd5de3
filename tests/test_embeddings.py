"""The embedding adapters: the packaged models for real, the OpenAI-compatible one against a
scripted server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from knowledge.embeddings import EmbeddingError, create_embedder


@pytest.mark.slow
def test_packaged_models_give_normalised_vectors(embedder: object) -> None:
    minilm = create_embedder("sentence-transformers", model="packaged:all-MiniLM-L6-v2")
    for model in (embedder, minilm):
        vectors = model.embed_documents(["Tickets per e-mail", "Rechnungen per Lastschrift"])
        assert vectors.shape == (2, model.dimension) == (2, 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
        query = model.embed_query("invoice payment")
        assert query.shape == (384,)
    assert minilm.name == "sentence-transformers/all-MiniLM-L6-v2"
    # multilingual: a German passage is closer to its English paraphrase than to an unrelated one
    passages = embedder.embed_documents(["Rechnungen werden monatlich verschickt.", "Der Server braucht 4 GB Speicher."])
    scores = passages @ embedder.embed_query("When are invoices sent?")
    assert scores[0] > scores[1]


class ScriptedOpenAI:
    """A minimal /v1/embeddings server: vectors derived from the text, scripted failures."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[int] = []
        self.headers: list[str | None] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                scripted.requests.append(body)
                scripted.headers.append(self.headers.get("Authorization"))
                status = scripted.failures.pop(0) if scripted.failures else 200
                if status != 200:
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "scripted"}}')
                    return
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [{"index": i, "embedding": [float(len(t)), 1.0, float(i)]} for i, t in enumerate(inputs)]
                payload = json.dumps({"data": data[::-1], "model": body["model"]}).encode()  # out of order on purpose
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAI]:
    scripted = ScriptedOpenAI()
    thread = threading.Thread(target=scripted.server.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def test_openai_compatible_embedder_batches_orders_and_retries(openai_server: ScriptedOpenAI) -> None:
    model = create_embedder("openai", base_url=openai_server.url, model="text-embedding-3-small", api_key="sk-test", batch_size=2)
    assert model.dimension == 3 and model.name == "openai/text-embedding-3-small"
    openai_server.requests.clear()
    openai_server.failures = [429, 503]
    vectors = model.embed_documents(["a", "bb", "ccc", "dddd", "eeeee"])
    assert len(openai_server.requests) == 3 + 2  # three batches, two retried failures
    assert [len(r["input"]) for r in openai_server.requests[2:]] == [2, 2, 1]
    assert vectors.shape == (5, 3)
    assert np.allclose(vectors[:, 0] / vectors[:, 1], [1, 2, 3, 4, 5])  # rows in input order despite shuffled data
    assert set(openai_server.headers) == {"Bearer sk-test"}


def test_openai_compatible_embedder_reports_auth_errors(openai_server: ScriptedOpenAI) -> None:
    model = create_embedder("openai", base_url=openai_server.url, model="m")
    openai_server.failures = [401]
    with pytest.raises(EmbeddingError, match="401"):
        model.embed_documents(["x"])


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(EmbeddingError, match="unknown embedding provider 'word2vec'"):
        create_embedder("word2vec")
