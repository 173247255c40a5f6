"""Displacement or diffusion of benefit: the Weighted Displacement Quotient.

Bowers & Johnson (2003, *J. Quant. Criminol.* 19, 275–301) compare the
target (response) area R, a displacement buffer D around it and a control
area C, before (b) and after (a) the intervention:

* **success measure** ``Ra/Ca − Rb/Cb``: negative when the target's share
  of crime fell relative to the control — the intervention "succeeded";
* **buffer measure** ``Da/Ca − Db/Cb``: positive is displacement into the
  buffer, negative is diffusion of benefit;
* ``WDQ = buffer measure / success measure``, read only when the success
  measure is negative: ``WDQ > 1`` diffusion greater than the direct effect,
  ``0 < WDQ ≤ 1`` diffusion of benefit, ``WDQ = 0`` no change in the
  buffer, ``−1 ≤ WDQ < 0`` some displacement but less than the direct
  effect (a net gain), ``WDQ < −1`` displacement greater than the direct
  effect (a net loss);
* **total net effect** ``(Rb·Ca/Cb − Ra) + (Db·Ca/Cb − Da)``: crimes
  prevented in target and buffer together, net of the control's trend
  (positive is a net benefit).

Undefined cases are stated, not computed: a control count of 0 (the
ratios divide by it), and a success measure that is not negative (no
success, so there is nothing to displace and the quotient is not
interpretable). The WDQ has no significance test; use
:func:`~cspanalysis.evaluation.weighted_displacement_difference` with the
buffer pair for one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cspanalysis.evaluation.result import as_pair

__all__ = ["WDQResult", "weighted_displacement_quotient"]


@dataclass(frozen=True)
class WDQResult:
    """Result of :func:`weighted_displacement_quotient`.

    Attributes
    ----------
    wdq
        The quotient; NaN when undefined (see :attr:`interpretation`).
    success_measure, buffer_measure
        ``Ra/Ca − Rb/Cb`` and ``Da/Ca − Db/Cb`` (NaN when a control count is 0).
    total_net_effect
        Crimes prevented in target and buffer, net of the control trend
        (positive is a net benefit); NaN when the control before count is 0.
    classification
        ``"diffusion"``, ``"displacement"``, ``"no change"``, or
        ``"undefined"``.
    interpretation
        The Bowers & Johnson reading, or why the quotient is undefined.
    """

    target: tuple[float, float]
    buffer: tuple[float, float]
    control: tuple[float, float]
    wdq: float
    success_measure: float
    buffer_measure: float
    total_net_effect: float
    classification: str
    interpretation: str

    @property
    def defined(self) -> bool:
        """True when the quotient could be computed and read."""
        return math.isfinite(self.wdq)

    def findings(self) -> list[str]:
        """Plain-English sentences about displacement."""
        out = []
        if self.defined:
            out.append(f"Weighted Displacement Quotient {self.wdq:.2f}: {self.interpretation}")
        else:
            out.append(
                f"The Weighted Displacement Quotient was not computed: {self.interpretation}"
            )
        if math.isfinite(self.total_net_effect):
            word = "prevented" if self.total_net_effect >= 0 else "added"
            out.append(
                f"Total net effect: about {abs(self.total_net_effect):.0f} crimes {word} in the "
                "target and buffer together, net of the control area's trend (no interval: "
                "the WDQ has no significance test)."
            )
        return out


def _interpret(wdq: float) -> tuple[str, str]:
    if wdq > 1:
        return "diffusion", (
            "diffusion of benefit to the buffer, larger than the direct effect in the target."
        )
    if wdq > 0:
        return (
            "diffusion",
            "diffusion of benefit: crime also fell in the buffer, relative to the control.",
        )
    if wdq == 0:
        return "no change", "no displacement and no diffusion: the buffer followed the control."
    if wdq >= -1:
        return "displacement", (
            "some displacement into the buffer, but less than the direct "
            "effect: a net gain overall."
        )
    return "displacement", (
        "displacement into the buffer larger than the direct effect: a net loss overall."
    )


def weighted_displacement_quotient(
    target: Sequence[float],
    buffer: Sequence[float],
    control: Sequence[float],
) -> WDQResult:
    """Weighted Displacement Quotient of Bowers & Johnson (2003), with its component measures.

    Parameters
    ----------
    target, buffer, control
        (before, after) counts in the target, its displacement buffer and the
        control area, over periods of equal length.

    Returns
    -------
    WDQResult
        ``wdq``, ``success_measure``, ``buffer_measure``, ``total_net_effect``,
        ``classification`` and ``interpretation``. Undefined cases (a control
        count of 0, or no success in the target) give NaN and say why.

    Examples
    --------
    Target 100 → 60, buffer 50 → 40, control 200 → 200:

    >>> r = weighted_displacement_quotient((100, 60), (50, 40), (200, 200))
    >>> [round(x, 3) for x in (r.success_measure, r.buffer_measure, r.wdq, r.total_net_effect)]
    [-0.2, -0.05, 0.25, 50.0]
    >>> r.classification
    'diffusion'
    """
    rb, ra = as_pair(target, "target")
    db, da = as_pair(buffer, "buffer")
    cb, ca = as_pair(control, "control")
    nan = math.nan
    if cb == 0 or ca == 0:
        which = "before" if cb == 0 else "after"
        tne = nan if cb == 0 else (rb * ca / cb - ra) + (db * ca / cb - da)
        return WDQResult(
            (rb, ra),
            (db, da),
            (cb, ca),
            nan,
            nan,
            nan,
            tne,
            "undefined",
            f"the control area's {which} count is 0, so the measures (which "
            "divide by it) are undefined; choose a larger control area.",
        )
    success = ra / ca - rb / cb
    buffer_m = da / ca - db / cb
    tne = (rb * ca / cb - ra) + (db * ca / cb - da)
    if success >= 0:
        why = (
            "the target's crime did not fall relative to the control (success measure "
            f"{success:+.3g}), so there was no success to displace and the quotient is not "
            "interpretable."
        )
        return WDQResult(
            (rb, ra), (db, da), (cb, ca), nan, success, buffer_m, tne, "undefined", why
        )
    wdq = buffer_m / success
    label, text = _interpret(wdq)
    return WDQResult((rb, ra), (db, da), (cb, ca), wdq, success, buffer_m, tne, label, text)
