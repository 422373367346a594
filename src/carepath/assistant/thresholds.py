"""Out-of-scope thresholds on confidence and margin, chosen on held-out rows.

Objective: with out-of-scope rows, maximise in-scope accuracy (a rejected in-scope message counts
as wrong) subject to out-of-scope recall ≥ `min_oos_recall`; ties go to the higher recall, then
to the middle of the equally good thresholds. Without out-of-scope rows nothing measures recall,
so the confidence threshold rejects the least confident `max_in_scope_rejection` share of
in-scope rows and the margin threshold stays 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

GRID_POINTS = 101


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A message is out of scope when confidence < `confidence` or margin < `margin`."""

    confidence: float = 0.0
    margin: float = 0.0

    def rejects(
        self, confidence: NDArray[np.floating], margin: NDArray[np.floating]
    ) -> NDArray[np.bool_]:
        return (confidence < self.confidence) | (margin < self.margin)


@dataclass(frozen=True, slots=True)
class ThresholdObjective:
    min_oos_recall: float = 0.6
    max_in_scope_rejection: float = 0.02


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The thresholds chosen and what they achieved on the rows they were chosen on."""

    thresholds: Thresholds
    in_scope_accuracy: float
    oos_recall: float | None
    rows: int
    oos_rows: int
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_thresholds(
    confidence: NDArray[np.floating],
    margin: NDArray[np.floating],
    correct: NDArray[np.bool_],
    is_oos: NDArray[np.bool_],
    objective: ThresholdObjective,
) -> ThresholdChoice:
    """`correct`: the top intent is the gold one (False for out-of-scope rows)."""
    n_in = int((~is_oos).sum())
    n_oos = int(is_oos.sum())
    if n_in == 0:
        raise ValueError("threshold tuning needs in-scope rows")
    if n_oos == 0:
        return _without_oos(confidence[~is_oos], correct[~is_oos], objective)
    conf_grid = _grid(confidence)
    margin_grid = _grid(margin)
    ok_in = correct & ~is_oos
    scores = np.full((len(conf_grid), len(margin_grid)), -1.0)  # -1: recall target missed
    recalls = np.zeros_like(scores)
    for i, c in enumerate(conf_grid):
        # margin thresholds by rows, all at once for this confidence threshold
        rejected = (confidence < c)[None, :] | (margin[None, :] < margin_grid[:, None])
        recall = rejected[:, is_oos].mean(axis=1)
        accuracy = (~rejected & ok_in[None, :]).sum(axis=1) / n_in
        scores[i] = np.where(recall >= objective.min_oos_recall, accuracy, -1.0)
        recalls[i] = recall
    # the top of each grid rejects every row, so a point with recall 1.0 always exists
    best = scores.max()
    best_recall = recalls[scores == best].max()
    i, j = _middle(np.argwhere((scores == best) & (recalls == best_recall)))
    return ThresholdChoice(
        thresholds=Thresholds(confidence=float(conf_grid[i]), margin=float(margin_grid[j])),
        in_scope_accuracy=float(best),
        oos_recall=float(best_recall),
        rows=len(confidence),
        oos_rows=n_oos,
        rule=f"max in-scope accuracy with oos recall >= {objective.min_oos_recall}",
    )


def _grid(values: NDArray[np.floating]) -> NDArray[np.float64]:
    """0, the midpoints between distinct quantiles of the values, and just above the largest."""
    points = np.unique(np.quantile(values, np.linspace(0.0, 1.0, GRID_POINTS)))
    midpoints = (points[:-1] + points[1:]) / 2
    return np.concatenate([[0.0], midpoints, [np.nextafter(points[-1], np.inf)]])


def _middle(optima: NDArray[np.intp]) -> tuple[int, int]:
    """Among equally good grid points, the middle one: a threshold at the edge of the best
    region sits right against a validation row, and a small validation set moves edges most."""
    rows = np.unique(optima[:, 0])
    i = int(rows[len(rows) // 2])
    cols = optima[optima[:, 0] == i, 1]
    return i, int(cols[len(cols) // 2])


def _without_oos(
    confidence: NDArray[np.floating], correct: NDArray[np.bool_], objective: ThresholdObjective
) -> ThresholdChoice:
    threshold = float(np.quantile(confidence, objective.max_in_scope_rejection))
    accepted = confidence >= threshold
    return ThresholdChoice(
        thresholds=Thresholds(confidence=threshold, margin=0.0),
        in_scope_accuracy=float((accepted & correct).mean()),
        oos_recall=None,
        rows=len(confidence),
        oos_rows=0,
        rule=(
            f"no oos rows: reject the least confident {objective.max_in_scope_rejection:.0%} "
            "of in-scope rows"
        ),
    )
