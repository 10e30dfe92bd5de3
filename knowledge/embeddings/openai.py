"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama...)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from knowledge.embeddings import EmbeddingError, normalize_rows


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=60, transport=transport)
        self._model = model
        self._batch_size = batch_size
        self.name = f"openai/{model}"
        self.dimension = len(self.embed_query("dimension probe"))

    @retry(retry=retry_if_exception(_retryable), stop=stop_after_attempt(4), wait=wait_exponential(max=20), reraise=True)
    def _post(self, texts: list[str]) -> list[list[float]]:
        response = self._client.post("/embeddings", json={"model": self._model, "input": texts})
        response.raise_for_status()
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        return [item["embedding"] for item in data]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        try:
            for start in range(0, len(texts), self._batch_size):
                rows.extend(self._post(list(texts[start : start + self._batch_size])))
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise EmbeddingError(f"embedding endpoint failed: {exc}") from exc
        if not rows:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        return normalize_rows(np.asarray(rows, dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
