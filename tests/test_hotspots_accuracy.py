"""PAI, PEI, RRI and hit rate on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from cspanalysis.errors import InputError
from cspanalysis.hotspots import predictive_accuracy

# Ten equal cells. Last year (the prediction) and this year (observed):
PREDICTED = [9, 8, 7, 6, 0, 0, 0, 0, 0, 0]  # 30 last year
OBSERVED = [5, 0, 3, 2, 6, 1, 1, 0, 1, 1]  # 20 this year


def test_hand_worked_equal_cells():
    t = predictive_accuracy(OBSERVED, PREDICTED, shares=[0.1, 0.2, 0.4]).table
    # 10%: cell 0 -> 5 of 20 in 1/10 of the area: hit 0.25, PAI 2.5;
    #      best single cell holds 6 -> PEI 5/6; RRI (5/9)/(20/30) = 0.8333
    # 20%: cells 0, 1 -> 5: hit 0.25, PAI 1.25; best two hold 6 + 5 = 11 -> PEI 5/11;
    #      RRI (5/17)/(2/3) = 0.4412
    # 40%: cells 0-3 -> 10: hit 0.5, PAI 1.25; best four 6+5+3+2 = 16 -> PEI 10/16;
    #      RRI (10/30)/(2/3) = 0.5
    assert t["cells"].tolist() == [1, 2, 4]
    assert t["area_share"].tolist() == pytest.approx([0.1, 0.2, 0.4])
    assert t["captured"].tolist() == [5, 5, 10]
    assert t["hit_rate"].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert t["pai"].tolist() == pytest.approx([2.5, 1.25, 1.25])
    assert t["pai_max"].tolist() == pytest.approx([3.0, 2.75, 2.0])
    assert t["pei"].tolist() == pytest.approx([5 / 6, 5 / 11, 10 / 16])
    assert t["rri"].tolist() == pytest.approx([(5 / 9) / (2 / 3), (5 / 17) / (2 / 3), 0.5])


def test_hand_worked_unequal_areas():
    # cell areas 1, 1, 2, 4 (total 8): the prediction picks cell 2 first (area 2 = 25%)
    obs = [4, 0, 6, 2]
    pred = [1, 0, 5, 3]
    t = predictive_accuracy(obs, pred, area=[1, 1, 2, 4], shares=[0.25, 0.5]).table
    # 25%: cell 2 alone -> 6/12 in 2/8: PAI 2. The best area-2 selection is cell 2 itself
    #      (cells 0 + 1 hold only 4), so PEI = 1 and PAI* = 2
    assert t.loc[0, "captured"] == 6 and t.loc[0, "pai"] == pytest.approx(2.0)
    assert t.loc[0, "pei"] == pytest.approx(1.0) and t.loc[0, "pai_max"] == pytest.approx(2.0)
    # 50%: cells 2 (area 2) + 3 (area 4) exceed 4, so only cell 2 -> area share 25%
    assert t.loc[1, "cells"] == 1 and t.loc[1, "area_share"] == pytest.approx(0.25)


def test_rejects_mismatched_and_bad_input():
    with pytest.raises(InputError, match="one value per cell"):
        predictive_accuracy([1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="fractions"):
        predictive_accuracy([1, 2], [1, 2], shares=[5])
    with pytest.raises(InputError, match="cell 1"):
        predictive_accuracy([1, np.nan], [1, 2])


def test_findings_and_shortcut():
    res = predictive_accuracy(OBSERVED, PREDICTED)
    assert res["pai"].iloc[-1] == pytest.approx(1.25)
    assert "PAI" in res.findings()[0]
