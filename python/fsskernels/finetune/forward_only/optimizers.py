"""Derivative-free optimizers run by the client in plaintext: ask for a population of z,
tell the losses. CMA-ES (Hansen; the ``cma`` package, ``cma.CMAEvolutionStrategy``) and
SPSA / MeZO (Spall 1992; Malladi et al. 2023: two-point estimates along random directions).

Their sampling randomness is the client's own and decides only which z are tried: the
server never sees z or anything computed from it except through fresh shares, so privacy
does not rest on it (it is seeded for reproducible runs; csprng-ok).
``best()`` is the current estimate of the optimum (CMA-ES: the distribution mean; SPSA: z).
"""
from __future__ import annotations

import numpy as np


class CMAES:
    name = "cma"

    def __init__(self, z_dim: int, population: int, sigma0: float, seed: int) -> None:
        import cma

        self.es = cma.CMAEvolutionStrategy(np.zeros(z_dim), float(sigma0),
                                           {"popsize": int(population),
                                            "seed": int(seed) + 1,  # csprng-ok: see module doc
                                            "verbose": -9, "CMA_diagonal": False})
        self._asked = None

    def ask(self) -> np.ndarray:
        self._asked = self.es.ask()
        return np.stack(self._asked)

    def tell(self, losses) -> None:
        if self._asked is None:
            raise ValueError("tell: call ask() first")
        self.es.tell(self._asked, [float(v) for v in losses])
        self._asked = None

    def best(self) -> np.ndarray:
        return np.asarray(self.es.mean, dtype=np.float64).copy()


class SPSA:
    """population = 2 n directions: candidates z + eps u_i, z - eps u_i (u_i Rademacher);
    g = mean_i (L+_i - L-_i) / (2 eps) u_i; z -= lr g."""
    name = "spsa"

    def __init__(self, z_dim: int, population: int, lr: float, eps: float, seed: int) -> None:
        if population % 2:
            raise ValueError(f"population: SPSA needs an even population, got {population}")
        self.z = np.zeros(z_dim)
        self.n = population // 2
        self.lr, self.eps = float(lr), float(eps)
        self.rng = np.random.default_rng(seed)  # csprng-ok: see module doc
        self._u = None

    def ask(self) -> np.ndarray:
        self._u = self.rng.choice([-1.0, 1.0], size=(self.n, self.z.shape[0]))
        return np.concatenate([self.z + self.eps * self._u, self.z - self.eps * self._u])

    def tell(self, losses) -> None:
        if self._u is None:
            raise ValueError("tell: call ask() first")
        L = np.asarray(losses, dtype=np.float64)
        d = (L[: self.n] - L[self.n:]) / (2 * self.eps)
        self.z = self.z - self.lr * (d[:, None] * self._u).mean(0)
        self._u = None

    def best(self) -> np.ndarray:
        return self.z.copy()


def make(cfg):
    """The optimizer of a ForwardOnlyConfig."""
    if cfg.optimizer == "cma":
        return CMAES(cfg.z_dim, cfg.population, cfg.sigma0, cfg.seed)
    return SPSA(cfg.z_dim, cfg.population, cfg.spsa_lr, cfg.spsa_eps, cfg.seed)
