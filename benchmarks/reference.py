"""The bare reference: the least a network diffusion step can cost.

One sparse matrix product over the model's own CSR adjacency and one Bernoulli draw per
consumer, on a susceptible-informed rule: exposure = A @ informed; a consumer hears with chance
beta x exposure; who hears is informed from then on. Nothing else: no attributes, no firms, no
bookkeeping. The full model's step is reported as a multiple of this step, measured in the same
process, interleaved with it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class BareDiffusion:
    def __init__(self, adjacency: sp.csr_array, beta: float, seed: int, initially_informed: float = 0.01):
        self.adjacency = adjacency
        self.beta = beta
        self.rng = np.random.default_rng(seed)
        self.size = adjacency.shape[0]
        self.informed = (self.rng.random(self.size) < initially_informed).astype(np.float64)

    def step(self) -> None:
        exposure = self.adjacency @ self.informed
        exposure *= self.beta
        heard = self.rng.random(self.size) < exposure
        self.informed[heard] = 1.0

    @property
    def informed_count(self) -> int:
        return int(np.count_nonzero(self.informed))
