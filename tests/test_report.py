"""Tests for aekit.report: PNG plots and the self-contained HTML report."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aekit.report as report
from aekit.report import (
    code_map_2d,
    code_map_png,
    feature_error_png,
    loss_curves_png,
    reconstruction_grid_png,
    save_png,
    write_report,
)
from aekit.report import html as report_html
from aekit.report import codemap, losses

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
SRC_ATTR = re.compile(r'\ssrc="([^"]*)"')


# --------------------------------------------------------------------------
# helpers and fixtures
# --------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    """Assert ``png`` is a decodable PNG and return its (width, height)."""
    assert isinstance(png, bytes)
    assert png[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        size = image.size
        image.verify()
    assert size[0] > 10 and size[1] > 10
    return size


def png_pixels(png: bytes) -> np.ndarray:
    """RGB pixels of a PNG as an (h, w, 3) uint8 array."""
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def count_orange(png: bytes) -> int:
    """Pixels close to matplotlib's tab:orange (blended with white or not)."""
    rgb = png_pixels(png).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > 220) & (g > 110) & (g < 200) & (b < 140)).sum())


def image_payloads(document: str) -> list[bytes]:
    """Decoded PNG payloads of every <img>, asserting each is an inline data URI."""
    payloads = []
    for tag in IMG_TAG.findall(document):
        match = SRC_ATTR.search(tag)
        assert match is not None, tag
        src = match.group(1)
        assert src.startswith("data:image/png;base64,"), src[:60]
        payloads.append(base64.b64decode(src.split(",", 1)[1], validate=True))
    return payloads


def make_history(epochs: int = 6) -> list[dict[str, float]]:
    rows = []
    for epoch in range(1, epochs + 1):
        rows.append(
            {
                "epoch": epoch,
                "train_total": 1.0 / epoch + 0.1,
                "train_recon": 0.8 / epoch + 0.05,
                "train_kl": 0.05 * epoch,
                "val_total": 1.1 / epoch + 0.1,
                "val_recon": 0.9 / epoch + 0.05,
                "lr": 1e-3,
                "seconds": 0.5,
            }
        )
    return rows


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# --------------------------------------------------------------------------
# HTML report
# --------------------------------------------------------------------------


def test_public_api_is_exported() -> None:
    expected = {
        "write_report",
        "loss_curves_png",
        "reconstruction_grid_png",
        "feature_error_png",
        "code_map_png",
        "code_map_2d",
        "save_png",
    }
    assert expected <= set(report.__all__)
    for name in report.__all__:
        assert callable(getattr(report, name))


def test_full_report_is_self_contained(tmp_path: Path, rng: np.random.Generator) -> None:
    images = rng.random((6, 1, 12, 12))
    codes = rng.normal(size=(120, 10))
    labels = rng.integers(0, 3, size=120)
    out = write_report(
        tmp_path / "nested" / "report.html",
        title="Run 1",
        summary={"model kind": "vae", "latent dim": 10, "data shape": (120, 144), "best validation loss": 0.123456789},
        history=make_history(),
        images=(images, images * 0.9),
        feature_errors=(["a", "b", "c"], np.array([0.3, 0.1, 0.2])),
        codes=codes,
        labels=labels,
        extra_sections=[("Anomalies", '<p class="anomaly">3 flagged</p>')],
    )
    assert isinstance(out, Path) and out.is_file()
    document = out.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>")
    lowered = document.lower()
    for forbidden in ('src="http', "src='http", "<script", "<link", "@import", "url(http", 'href="http'):
        assert forbidden not in lowered, forbidden
    payloads = image_payloads(document)
    assert len(payloads) == 4
    for png in payloads:
        png_size(png)
    for section_id in ("summary", "loss-curves", "reconstructions", "feature-errors", "code-map", "extra-1"):
        assert f'id="{section_id}"' in document
    # Summary values are formatted readably, in order, with the extra section last.
    assert "<td>(120, 144)</td>" in document
    assert "<td>0.123457</td>" in document
    assert document.index("model kind") < document.index("latent dim")
    assert '<p class="anomaly">3 flagged</p>' in document
    assert document.index('id="code-map"') < document.index('id="extra-1"')


def test_optional_sections_only_when_data_given(tmp_path: Path) -> None:
    out = write_report(tmp_path / "r.html", title="Minimal", summary={"epochs run": 6}, history=make_history())
    document = out.read_text(encoding="utf-8")
    assert len(image_payloads(document)) == 1
    assert 'id="loss-curves"' in document
    for section_id in ("reconstructions", "feature-errors", "code-map", "extra-1"):
        assert f'id="{section_id}"' not in document


def test_only_code_map_added(tmp_path: Path, rng: np.random.Generator) -> None:
    out = write_report(tmp_path / "r.html", title="t", summary={}, history=[], codes=rng.normal(size=(50, 2)))
    document = out.read_text(encoding="utf-8")
    assert len(image_payloads(document)) == 1
    assert 'id="code-map"' in document
    assert 'id="reconstructions"' not in document and 'id="feature-errors"' not in document


def test_user_strings_are_escaped(tmp_path: Path) -> None:
    evil = "<script>alert('x')</script>"
    out = write_report(
        tmp_path / "r.html",
        title=evil,
        summary={"<b>key</b>": evil, "stop reason": 'a "quoted" & <tagged> value'},
        history=[],
        extra_sections=[(evil, "<em>trusted fragment</em>")],
    )
    document = out.read_text(encoding="utf-8")
    assert "<script" not in document.lower()
    assert "<b>key</b>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document
    assert "<title>&lt;script&gt;" in document
    assert "&lt;b&gt;key&lt;/b&gt;" in document
    assert "a &quot;quoted&quot; &amp; &lt;tagged&gt; value" in document
    assert "<em>trusted fragment</em>" in document  # fragments are inserted verbatim


def test_empty_history_gives_note_not_plot(tmp_path: Path) -> None:
    out = write_report(tmp_path / "r.html", title="t", summary={"epochs run": 0}, history=[])
    document = out.read_text(encoding="utf-8")
    assert "No training history was recorded." in document
    assert image_payloads(document) == []


def test_write_is_atomic_and_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    write_report(str(target), title="new title", summary={}, history=[])
    assert "new title" in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temp file left behind


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, title="t", summary={}, history=[])
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_report_argument_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    codes = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="labels"):
        write_report(tmp_path / "r.html", title="t", summary={}, history=[], labels=np.zeros(10))
    with pytest.raises(ValueError, match="extra_sections"):
        write_report(tmp_path / "r.html", title="t", summary={}, history=[], extra_sections=[("only heading",)])
    with pytest.raises(ValueError, match="images"):
        write_report(tmp_path / "r.html", title="t", summary={}, history=[], images=rng.random((2, 4, 4)))
    with pytest.raises(ValueError, match="labels"):
        write_report(tmp_path / "r.html", title="t", summary={}, history=[], codes=codes, labels=np.zeros(3))
    assert not (tmp_path / "r.html").exists()


def test_format_value() -> None:
    fmt = report_html._format_value
    assert fmt(np.float64(0.1234567891)) == "0.123457"
    assert fmt(np.int64(7)) == "7"
    assert fmt((np.int64(3), 4)) == "(3, 4)"
    assert fmt((5,)) == "(5,)"
    assert fmt(None) == "\u2014"
    assert fmt(True) == "yes"
    assert fmt(float("nan")) == "nan"
    assert fmt(np.zeros((100, 100))) == "array of shape (100, 100)"


# --------------------------------------------------------------------------
# loss curves
# --------------------------------------------------------------------------


def test_loss_curves_more_terms_make_more_panels() -> None:
    one_term = [{"epoch": e, "train_total": 1.0 / e} for e in range(1, 5)]
    width_one, _ = png_size(loss_curves_png(one_term))
    width_three, _ = png_size(loss_curves_png(make_history(4)))  # total, recon, kl
    assert width_three > 2 * width_one


def test_loss_curves_tolerate_nan_inf_and_missing() -> None:
    history = make_history()
    history[2]["train_total"] = float("nan")
    history[3]["val_total"] = float("inf")
    history[1]["train_recon"] = None  # type: ignore[assignment]
    for row in history:
        row["val_kl"] = float("nan")  # a term with no finite value at all
    del history[4]["val_recon"]
    del history[0]["epoch"]
    png_size(loss_curves_png(history))


def test_loss_curves_single_epoch_and_train_only() -> None:
    png_size(loss_curves_png([{"train_total": 0.5}]))
    png_size(loss_curves_png([{"epoch": 1, "train_recon": -0.5}, {"epoch": 2, "train_recon": 0.2}]))


def test_loss_curves_bad_history() -> None:
    with pytest.raises(ValueError, match="empty"):
        loss_curves_png([])
    with pytest.raises(ValueError, match="train_"):
        loss_curves_png([{"epoch": 1, "lr": 0.1}])
    with pytest.raises(ValueError, match="dict"):
        loss_curves_png([1.0, 2.0])  # type: ignore[list-item]


def test_history_terms_total_first() -> None:
    rows = [{"train_recon": 1.0, "val_kl": 1.0, "train_total": 2.0, "lr": 0.1, "seconds": 3.0}]
    assert losses._history_terms(rows) == ["total", "recon", "kl"]


def test_log_scale_only_for_positive_values() -> None:
    assert losses._use_log_scale(np.array([1.0, 0.1, np.nan]), np.array([0.5]))
    assert not losses._use_log_scale(np.array([1.0, 0.0]))
    assert not losses._use_log_scale(np.array([1.0, -0.1]))
    assert not losses._use_log_scale(np.array([np.nan]))


# --------------------------------------------------------------------------
# reconstruction grid
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 10, 10), (5, 1, 10, 10), (5, 3, 10, 10)])
def test_reconstruction_grid_shapes(shape: tuple[int, ...], rng: np.random.Generator) -> None:
    inputs = rng.random(shape)
    recons = inputs * 1.5 - 0.2  # out of [0, 1]: must be clipped, not fail
    recons.flat[0] = np.nan
    png_size(reconstruction_grid_png(inputs, recons))


def test_reconstruction_grid_respects_n(rng: np.random.Generator) -> None:
    images = rng.random((20, 1, 32, 32))
    width_2, height_2 = png_size(reconstruction_grid_png(images, images, n=2))
    width_8, height_8 = png_size(reconstruction_grid_png(images, images, n=8))
    width_16, height_16 = png_size(reconstruction_grid_png(images, images, n=16))
    assert width_8 / height_8 > 2 * width_2 / height_2  # more columns in the same two rows
    assert width_16 == width_8 and height_16 > 1.8 * height_8  # a second block of two rows


def test_reconstruction_grid_shows_pixels(rng: np.random.Generator) -> None:
    black = np.zeros((2, 1, 16, 16))
    white = np.ones((2, 1, 16, 16))
    pixels = png_pixels(reconstruction_grid_png(black, white))
    assert (pixels.sum(axis=2) == 0).sum() > 16 * 16  # inputs drawn black
    assert (pixels.min(axis=2) == 255).sum() > 16 * 16  # reconstructions (and margins) white


def test_reconstruction_grid_errors(rng: np.random.Generator) -> None:
    images = rng.random((4, 1, 8, 8))
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_grid_png(images, images[:3])
    with pytest.raises(ValueError, match="channels-last"):
        reconstruction_grid_png(rng.random((4, 8, 8, 3)), rng.random((4, 8, 8, 3)))
    with pytest.raises(ValueError, match="shape"):
        reconstruction_grid_png(rng.random((4, 8)), rng.random((4, 8)))
    with pytest.raises(ValueError, match="n must"):
        reconstruction_grid_png(images, images, n=0)


# --------------------------------------------------------------------------
# per-feature error
# --------------------------------------------------------------------------


def test_feature_error_png(rng: np.random.Generator) -> None:
    names = [f"f{i}" for i in range(40)]
    errors = rng.random(40)
    _, height_all = png_size(feature_error_png(names, errors, top=30))
    _, height_few = png_size(feature_error_png(names, errors, top=5))
    assert height_all > height_few


def test_feature_error_nonfinite_and_long_names() -> None:
    names = ["x" * 200, "<b>", "c"]
    png_size(feature_error_png(names, np.array([np.nan, 0.2, np.inf])))
    png_size(feature_error_png(names, np.array([np.nan, np.nan, np.nan])))


def test_feature_error_errors() -> None:
    with pytest.raises(ValueError, match="2 feature names but 3"):
        feature_error_png(["a", "b"], np.ones(3))
    with pytest.raises(ValueError, match="1-D"):
        feature_error_png(["a", "b"], np.ones((2, 2)))
    with pytest.raises(ValueError, match="top"):
        feature_error_png(["a"], np.ones(1), top=0)


# --------------------------------------------------------------------------
# code map
# --------------------------------------------------------------------------


def test_code_map_2d_k2_is_identity(rng: np.random.Generator) -> None:
    codes = rng.normal(size=(30, 2))
    xy, description = code_map_2d(codes)
    np.testing.assert_allclose(xy, codes)
    assert "PCA" not in description


def test_code_map_2d_k1_jitter(rng: np.random.Generator) -> None:
    codes = rng.normal(size=(30, 1))
    xy, description = code_map_2d(codes)
    assert xy.shape == (30, 2)
    np.testing.assert_allclose(xy[:, 0], codes[:, 0])
    assert np.all(np.abs(xy[:, 1]) <= 0.5) and xy[:, 1].std() > 0
    np.testing.assert_allclose(code_map_2d(codes)[0], xy)  # seeded
    assert "1-D" in description
    xy_flat, _ = code_map_2d(codes[:, 0])
    np.testing.assert_allclose(xy_flat, xy)


def test_code_map_2d_pca(rng: np.random.Generator) -> None:
    # Variance concentrated in two directions: PCA must recover them.
    base = rng.normal(size=(200, 2)) * np.array([5.0, 2.0])
    codes = np.concatenate([base, 0.01 * rng.normal(size=(200, 8))], axis=1)
    xy, description = code_map_2d(codes)
    assert xy.shape == (200, 2)
    assert "PCA of code" in description and "10-D" in description
    assert abs(np.corrcoef(xy[:, 0], base[:, 0])[0, 1]) > 0.99
    assert abs(np.corrcoef(xy[:, 1], base[:, 1])[0, 1]) > 0.99


def test_code_map_2d_errors() -> None:
    with pytest.raises(ValueError, match="NaN"):
        code_map_2d(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="shape"):
        code_map_2d(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="empty"):
        code_map_2d(np.zeros((0, 3)))


@pytest.mark.parametrize(
    ("k", "label_kind"),
    [(1, "none"), (1, "float"), (2, "none"), (2, "int"), (2, "str"), (10, "none"), (10, "int"), (10, "float")],
)
def test_code_map_png_variants(k: int, label_kind: str, rng: np.random.Generator) -> None:
    n = 150
    codes = rng.normal(size=(n, k))
    labels = {
        "none": None,
        "int": rng.integers(0, 4, size=n),
        "str": np.array([f"class {i}" for i in rng.integers(0, 3, size=n)]),
        "float": rng.normal(size=n),
    }[label_kind]
    png_size(code_map_png(codes, labels, title="codes <k>"))


def test_code_map_colours_follow_labels(rng: np.random.Generator) -> None:
    codes = rng.normal(size=(400, 2))
    labels = np.arange(400) % 2  # class 1 is tab:orange
    assert count_orange(code_map_png(codes, labels)) > 1000  # points, not just the legend
    assert count_orange(code_map_png(codes)) == 0


def test_code_map_subsample_is_seeded_and_bounded(rng: np.random.Generator) -> None:
    order = codemap._draw_order(12_000, 5000, seed=0)
    assert order.shape == (5000,) and np.unique(order).size == 5000 and order.max() < 12_000
    np.testing.assert_array_equal(order, codemap._draw_order(12_000, 5000, seed=0))
    assert sorted(codemap._draw_order(50, 5000, seed=0)) == list(range(50))
    codes = rng.normal(size=(300, 3))
    assert code_map_png(codes, max_points=100) == code_map_png(codes, max_points=100)


def test_code_map_png_tolerates_nonfinite_rows(rng: np.random.Generator) -> None:
    codes = rng.normal(size=(40, 3))
    codes[:5] = np.nan
    labels = rng.normal(size=40)
    labels[7] = np.nan
    png_size(code_map_png(codes, labels))
    png_size(code_map_png(np.full((4, 2), np.inf)))
    png_size(code_map_png(np.zeros((1, 5))))  # one point, constant codes


def test_code_map_png_errors(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="labels"):
        code_map_png(rng.normal(size=(10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="max_points"):
        code_map_png(rng.normal(size=(10, 2)), max_points=0)


def test_label_kind() -> None:
    assert codemap._label_kind(np.arange(20) % 10) == "discrete"
    assert codemap._label_kind(np.array([0.0, 1.0, 2.0, np.nan])) == "discrete"
    assert codemap._label_kind(np.array(["a", "b"])) == "discrete"
    assert codemap._label_kind(np.arange(50)) == "continuous"
    assert codemap._label_kind(np.linspace(0, 1, 30)) == "continuous"


def test_many_string_classes_pooled_as_other() -> None:
    labels = np.array([f"c{i:02d}" for i in range(30)] * 2 + ["c00"] * 5)
    colours, entries = codemap._discrete_colours(labels)
    names = [name for name, _ in entries]
    assert len(names) == 20
    assert names[-1] == "other (11 classes)"
    assert "c00" in names  # the most frequent class keeps its own colour
    assert colours.shape == (labels.size, 4)


def test_discrete_float_labels_print_as_integers() -> None:
    _, entries = codemap._discrete_colours(np.array([1.0, 2.0, np.nan]))
    assert [name for name, _ in entries] == ["1", "2", "missing"]


# --------------------------------------------------------------------------
# save_png
# --------------------------------------------------------------------------


def test_save_png(tmp_path: Path) -> None:
    png = loss_curves_png([{"train_total": 1.0}, {"train_total": 0.5}])
    out = save_png(png, tmp_path / "plots" / "loss.png")
    assert out.read_bytes() == png
    with pytest.raises(ValueError, match="PNG"):
        save_png(b"not a png", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plots_leave_pyplot_state_alone() -> None:
    import sys

    import matplotlib

    backend = matplotlib.get_backend()
    feature_error_png(["a"], np.ones(1))
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:  # imported by someone else: no figures of ours registered
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_umap_projection_separates_what_pca_overlaps(rng: np.random.Generator) -> None:
    # Two groups that differ only along a low-variance axis: PCA's first two axes mix them, UMAP keeps them apart.
    group = np.repeat([0, 1], 150)
    codes = rng.normal(size=(300, 6)) * np.array([5, 5, 1, 1, 1, 0.1])
    codes[:, 5] += 8.0 * group
    def separation(xy: np.ndarray) -> float:
        from sklearn.neighbors import KNeighborsClassifier
        return KNeighborsClassifier(5).fit(xy[::2], group[::2]).score(xy[1::2], group[1::2])
    pca_xy, pca_text = code_map_2d(codes)
    umap_xy, umap_text = code_map_2d(codes, projection="umap")
    assert "PCA" in pca_text and "UMAP" in umap_text
    assert separation(umap_xy) > 0.95 > separation(pca_xy) + 0.2
    png_size(code_map_png(codes, group, projection="umap"))
    with pytest.raises(ValueError, match="projection"):
        code_map_2d(codes, projection="tsne")


def test_cluster_examples_png_has_one_row_per_cluster(rng: np.random.Generator) -> None:
    images = rng.uniform(size=(30, 1, 8, 8))
    clusters = np.repeat([2, 0, 1], 10)
    one_row = Image.open(io.BytesIO(report.cluster_examples_png(images[:10], clusters[:10], per_cluster=5)))
    three_rows = Image.open(io.BytesIO(report.cluster_examples_png(images, clusters, per_cluster=5)))
    assert three_rows.size[1] > 2 * one_row.size[1] * 0.8  # taller with more clusters
    whole_sizes = report.cluster_examples_png(images, clusters, per_cluster=5, sizes={0: 100, 1: 50, 2: 7})
    assert whole_sizes[:8] == PNG_SIGNATURE and whole_sizes != report.cluster_examples_png(images, clusters, 5)
    with pytest.raises(ValueError, match="one id per image"):
        report.cluster_examples_png(images, clusters[:5])
    with pytest.raises(ValueError, match="per_cluster"):
        report.cluster_examples_png(images, clusters, per_cluster=0)


def test_a_term_equal_to_total_gets_no_panel_of_its_own() -> None:
    one_term = [{"epoch": e, "train_total": 1.0 / e, "train_recon": 1.0 / e, "val_total": 2.0 / e,
                 "val_recon": 2.0 / e} for e in range(1, 5)]
    two_terms = [dict(row, train_kl=0.1, val_kl=0.2) for row in one_term]
    width = lambda rows: Image.open(io.BytesIO(loss_curves_png(rows))).size[0]  # noqa: E731
    assert width(two_terms) > 1.5 * width(one_term)  # total + kl (+ recon) panels vs the single total panel
