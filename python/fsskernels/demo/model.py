"""The server's plaintext model: two-class logistic regression on bag-of-words counts,
trained with full-batch Adam (deterministic; ~0.73 held-out accuracy on Rotten Tomatoes)."""
from __future__ import annotations

import numpy as np


def train_logreg(x: np.ndarray, y: np.ndarray, *, classes: int = 2, steps: int = 60, lr: float = 0.05,
                 l2: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features, classes) and bias (classes,) minimizing mean cross-entropy +
    l2/2 |W|^2. Column 0 of x (padding) is ignored and gets a zero weight."""
    x = np.array(x, dtype=np.float32)
    x[:, 0] = 0.0
    n, d = x.shape
    w = np.zeros((d, classes), np.float32)
    b = np.zeros(classes, np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    moments = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    for t in range(1, steps + 1):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        for param, grad, m, v in ((w, x.T @ g + l2 * w, moments[0], moments[1]), (b, g.sum(axis=0), moments[2], moments[3])):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    w[0] = 0.0
    return w.astype(np.float64), b.astype(np.float64)


def predict(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.argmax(x @ w + b, axis=1)
