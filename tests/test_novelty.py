"""AnomalyDetector(novelty=True): clean training rows, leave-one-out scores, a false-alarm threshold, explanations,
persistence, and the run report's labels (which value is anomalous, the AUROC the right way round)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from aekit import AnomalyDetector
from aekit.cli import main
from aekit.estimators.novelty import NoveltyScorer, false_alarm_threshold
from aekit.runs import label_auroc


@pytest.fixture(scope="module")
def normal_and_new():
    """Training rows: two correlated Gaussian clusters in 6-d. New rows: more of the same, and novel rows that sit
    between the clusters or push one column beyond its range."""
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(6, 6))

    def normal(n):
        centre = np.where(rng.random(n)[:, None] < 0.5, -3.0, 3.0)
        return (rng.normal(size=(n, 6)) + centre) @ mix

    novel = rng.normal(size=(40, 6)) @ mix  # between the two clusters
    spiked = normal(40)
    spiked[:, 2] += 25.0
    return normal(1500), np.vstack([normal(400), novel, spiked]), np.r_[np.zeros(400), np.ones(80)]


@pytest.fixture(scope="module")
def fitted(normal_and_new):
    return AnomalyDetector(novelty=True, false_alarm_rate=0.05, random_state=0).fit(normal_and_new[0])


def test_novel_rows_score_high_and_no_members_are_trained(fitted, normal_and_new):
    _, new, y = normal_and_new
    assert fitted.members_ == [] and fitted.novelty_ is not None
    assert roc_auc_score(y, fitted.decision_function(new)) > 0.97
    assert fitted.predict(new)[y == 1].mean() > 0.9  # flagged at the 5% false-alarm threshold


def test_training_rows_are_scored_leave_one_out():
    """A training row's parts are exactly those of a new row scored against the other training rows."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    X[7] = X[3]  # an exact copy: it stays its twin's neighbour
    scorer = NoveltyScorer(neighbours=2, tail_weight=1 / 3)
    scorer.fit(X, None)
    loo = scorer._parts(X, None, leave_one_out=True)
    for i in (0, 3, 59):
        others = NoveltyScorer(neighbours=2, tail_weight=1 / 3)
        others.fit(np.delete(X, i, axis=0), None)
        np.testing.assert_allclose(others._parts(X[i : i + 1], None, leave_one_out=False)[0], loo[i], rtol=1e-6)
    assert loo[3, 0] == pytest.approx(np.sort(np.linalg.norm(np.delete(X, 3, 0) - X[3], axis=1))[:2].mean(), rel=1e-5)


def test_the_threshold_holds_its_false_alarm_rate_on_new_normal_rows():
    rng = np.random.default_rng(2)
    det = AnomalyDetector(novelty=True, false_alarm_rate=0.02, random_state=0).fit(rng.normal(size=(3000, 5)))
    assert det.realised_false_alarm_rate_ == pytest.approx(0.02, abs=0.002)
    assert det.labels_.mean() == pytest.approx(det.realised_false_alarm_rate_)
    new_rate = det.predict(rng.normal(size=(20000, 5))).mean()
    assert 0.012 < new_rate < 0.03  # split conformal: about the target on rows the detector never saw
    loose = AnomalyDetector(novelty=True, false_alarm_rate=0.2, random_state=0).fit(rng.normal(size=(3000, 5)))
    assert loose.threshold_ < det.threshold_


def test_false_alarm_threshold_is_the_conformal_rank_and_says_when_rows_are_too_few():
    scores = np.arange(1, 1000, dtype=float)  # 999 held-out scores
    threshold, realised = false_alarm_threshold(scores, 0.01)
    assert threshold == 990.0 and realised == pytest.approx(9 / 999)  # ceil(1000 * 0.99) = 990th smallest
    threshold, realised = false_alarm_threshold(np.arange(50.0), 0.01)
    assert threshold == 49.0 and realised == 0.0  # 50 rows cannot show a 1% rate: nothing is flagged
    ties = np.r_[np.zeros(990), np.ones(10)]
    assert false_alarm_threshold(ties, 0.05) == (0.0, 0.01)  # ties: the realised rate is what it is


def test_contamination_is_not_used_with_novelty(normal_and_new):
    X = normal_and_new[0]
    a = AnomalyDetector(novelty=True, contamination=0.05, random_state=0).fit(X)
    b = AnomalyDetector(novelty=True, contamination=0.4, random_state=0).fit(X)
    assert a.threshold_ == b.threshold_


def test_an_exact_copy_of_a_training_row_is_normal(fitted, normal_and_new):
    X = normal_and_new[0]
    again = fitted.decision_function(X[:200])
    assert (again < fitted.decision_scores_[:200]).all()  # counted as its own neighbour now
    assert fitted.predict(X[:200]).sum() == 0


def test_explanations_name_the_column_pushed_out_of_range(fitted, normal_and_new):
    _, new, _ = normal_and_new
    expl = fitted.explain(new[440:], top=2)  # the spiked rows
    assert (expl["feature_1"] == "x2").all()
    assert (expl["contribution_1"] >= expl["contribution_2"]).all()


def test_missing_cells_are_left_out_of_the_novelty_score():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(500, 3)), columns=list("abc"))
    det = AnomalyDetector(novelty=True, random_state=0).fit(df)
    new = pd.DataFrame({"a": [0.1, 0.1], "b": [np.nan, 0.2], "c": [8.0, -0.1]})
    scores = det.decision_function(new)
    assert np.isfinite(scores).all() and scores[0] > det.threshold_ > scores[1]
    assert "b" not in det.explain(new.iloc[:1], top=2).iloc[0].tolist()


def test_save_load_keeps_scores_threshold_and_rate(fitted, normal_and_new, tmp_path):
    _, new, _ = normal_and_new
    fitted.save(tmp_path / "nov")
    loaded = AnomalyDetector.load(tmp_path / "nov")
    np.testing.assert_array_equal(loaded.decision_function(new), fitted.decision_function(new))
    assert loaded.threshold_ == fitted.threshold_
    assert loaded.realised_false_alarm_rate_ == fitted.realised_false_alarm_rate_
    np.testing.assert_array_equal(loaded.labels_, fitted.labels_)
    facts = AnomalyDetector.describe({"params": fitted.get_params(), "fitted": {"n_members": 0}})
    assert facts["false alarm rate"] == 0.05 and "contamination" not in facts


def test_the_unsupervised_default_keeps_its_members():
    det = AnomalyDetector(n_estimators=1, max_iter=2, random_state=0).fit(np.random.default_rng(0).normal(size=(80, 3)))
    assert not det.novelty and det.novelty_ is None and len(det.members_) == 1


def test_the_anomalous_label_is_the_minority_class_or_the_one_named():
    y = np.r_[np.ones(300), np.zeros(100)].astype(int)  # 1 is the common class here
    scores = np.r_[np.zeros(300), np.ones(100)]  # the zeros score high
    facts = label_auroc(y, scores)
    assert facts == {"anomalous label": "0 (minority class, 100 of 400)",
                     "AUROC against the given labels (0 = anomaly)": 1.0}
    assert label_auroc(y, scores, "1")["AUROC against the given labels (1 = anomaly)"] == 0.0
    assert label_auroc(np.array(["ok", "bad", "ok"]), np.array([0.0, 1.0, 0.0]))["anomalous label"].startswith("bad")
    assert label_auroc(None, scores) == {} and label_auroc(np.zeros(5), np.arange(5.0)) == {}
    with pytest.raises(ValueError, match="'7' is not among the label values"):
        label_auroc(y, scores, "7")
    assert label_auroc(np.r_[np.zeros(5), np.ones(5)], np.arange(10.0))["anomalous label"].startswith(
        "1.0 (the larger of two equally common values")


def test_cli_report_on_breast_cancer_states_the_anomalous_label(tmp_path, capsys):
    """scikit-learn's breast-cancer table marks benign as 1; the 212 malignant rows (0) are the minority, and the
    detector ranks them high: the report must say 0 is anomalous and give the AUROC for finding it."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns={"target": "y"})
    frame.to_csv(tmp_path / "bc.csv", index=False)
    run = tmp_path / "bc"
    assert main(["detect", "fit", str(tmp_path / "bc.csv"), "--out", str(run), "--label-col", "y", "-q"]) == 0
    err = capsys.readouterr().err
    assert "anomalous label: 0 (minority class, 212 of 569)" in err
    auroc = float(err.split("AUROC against the given labels (0 = anomaly): ")[1].split()[0])
    assert auroc > 0.6
    html = (run / "report.html").read_text()
    assert "AUROC against the given labels (0 = anomaly)" in html and "unsupervised" in html
    assert main(["detect", "fit", str(tmp_path / "bc.csv"), "--out", str(run), "--label-col", "y",
                 "--anomaly-label", "1", "--overwrite", "-q"]) == 0
    flipped = float(capsys.readouterr().err.split("(1 = anomaly): ")[1].split()[0])
    assert flipped == pytest.approx(1 - auroc, abs=1e-9)


def test_cli_novelty_fit_reports_the_false_alarm_threshold(normal_and_new, tmp_path, capsys):
    X, new, _ = normal_and_new
    pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]).to_csv(tmp_path / "normal.csv", index=False)
    run = tmp_path / "nov"
    assert main(["detect", "fit", str(tmp_path / "normal.csv"), "--out", str(run), "--novelty",
                 "--false-alarm-rate", "0.02", "-q"]) == 0
    err = capsys.readouterr().err
    assert "of 1500 held-out normal rows (target false-alarm rate 2.00%)" in err
    html = (run / "report.html").read_text()
    assert "target false-alarm rate" in html and "realised false-alarm rate on 1500 held-out normal rows" in html
    assert "of these 1500 held-out normal rows (target false-alarm rate 2.00%)" in html
    det = AnomalyDetector.load(run)
    assert det.novelty and det.false_alarm_rate == 0.02
    assert main(["detect", "fit", str(tmp_path / "normal.csv"), "--out", str(tmp_path / "x"),
                 "--anomaly-label", "1"]) == 2
    assert "--label-col" in capsys.readouterr().err
