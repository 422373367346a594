"""Calibrated probabilities from linear scores: softmax with one temperature fitted on held-out
scores (temperature scaling, Guo et al. 2017); it changes confidence, never the ranking."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

LOG_T_BOUNDS = (-7.0, 3.0)


def softmax(scores: NDArray[np.floating], temperature: float) -> NDArray[np.float64]:
    z = np.asarray(scores, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]


def fit_temperature(scores: NDArray[np.floating], labels: NDArray[np.intp]) -> float:
    """The temperature minimising the cross-entropy against lightly smoothed labels.

    Plain negative log-likelihood has no minimum when every held-out row is ranked right (a
    small tenant's validation set often is): it drives the temperature to 0 and every
    confidence to 1. Smoothing by 1/(n+2), Laplace's rule, keeps a finite optimum and is
    negligible on thousands of rows.
    """
    n, k = scores.shape
    eps = 1.0 / (n + 2)
    rows = np.arange(n)
    logits = np.asarray(scores, dtype=np.float64)

    def loss(log_t: float) -> float:
        logp = log_softmax(logits / np.exp(log_t), axis=1)
        true = logp[rows, labels]
        others = (logp.sum(axis=1) - true) / (k - 1)
        return float(-((1 - eps) * true + eps * others).mean())

    result = minimize_scalar(loss, bounds=LOG_T_BOUNDS, method="bounded")
    return float(np.exp(result.x))
