"""Gradient clipping: seed vectors of docs/contract.md, per-tensor vs global norm, flat-buffer segments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlrun.optim.clipping import clip_by_global_norm, clip_by_norm, clip_by_value
from mlrun.optim.optimizers import SGD


def _run(fn, grads, c, **kw):
    out = [np.empty_like(g) for g in grads]
    fn(grads, c, out, **kw)
    return out


def test_seed_vector_clip_norm():
    (o,) = _run(clip_by_norm, [np.array([0.9, 100.0])], 1.0)
    np.testing.assert_allclose(o, [0.00899964, 0.9999595], rtol=1e-6)


def test_seed_vector_clip_value():
    (o,) = _run(clip_by_value, [np.array([0.9, 100.0])], 1.0)
    np.testing.assert_array_equal(o, [0.9, 1.0])
    (o,) = _run(clip_by_value, [np.array([-3.0, 0.5, -0.2])], 0.4)
    np.testing.assert_array_equal(o, [-0.4, 0.4, -0.2])


def test_grads_are_not_modified():
    g = np.array([3.0, 4.0])
    _run(clip_by_norm, [g], 1.0)
    _run(clip_by_global_norm, [g], 1.0)
    _run(clip_by_value, [g], 1.0)
    np.testing.assert_array_equal(g, [3.0, 4.0])


def test_norm_below_threshold_is_unchanged():
    g = np.array([0.3, 0.4])  # norm 0.5
    np.testing.assert_array_equal(_run(clip_by_norm, [g], 1.0)[0], g)
    np.testing.assert_array_equal(_run(clip_by_global_norm, [g], 1.0)[0], g)


def test_clip_norm_differs_from_global_clip_norm():
    a, b = np.array([3.0, 4.0]), np.array([0.6, 0.8])  # norms 5 and 1, joint norm sqrt(26)
    per = _run(clip_by_norm, [a, b], 2.0)
    glob = _run(clip_by_global_norm, [a, b], 2.0)
    # per tensor: a scaled by 2/5, b (norm 1 <= 2) untouched
    np.testing.assert_allclose(per[0], [1.2, 1.6])
    np.testing.assert_allclose(per[1], [0.6, 0.8])
    # global: both scaled by 2/sqrt(26)
    s = 2.0 / np.sqrt(26.0)
    np.testing.assert_allclose(glob[0], [3.0 * s, 4.0 * s])
    np.testing.assert_allclose(glob[1], [0.6 * s, 0.8 * s])
    assert not np.allclose(per[1], glob[1])
    assert np.linalg.norm(np.concatenate(glob)) == pytest.approx(2.0)


def test_segments_on_flat_buffer_equal_separate_arrays():
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=n) * k for n, k in ((6, 3.0), (3, 0.1), (12, 10.0), (1, 5.0))]
    flat = np.concatenate(parts)
    offsets = np.cumsum([0] + [p.size for p in parts[:-1]])
    separate = _run(clip_by_norm, parts, 1.5)
    (packed,) = _run(clip_by_norm, [flat], 1.5, segments=[offsets])
    np.testing.assert_allclose(packed, np.concatenate(separate), rtol=1e-14)
    # by hand for the small second tensor (norm < 1.5: unchanged) and the scalar one (|x| -> 1.5)
    np.testing.assert_allclose(packed[6:9], parts[1])
    assert abs(packed[-1]) == pytest.approx(1.5)
    # without segments the flat buffer is a single tensor: a different answer
    (whole,) = _run(clip_by_norm, [flat], 1.5)
    assert not np.allclose(whole, packed)


def test_segments_per_array_none_means_whole_array():
    a = np.array([3.0, 4.0])
    (o,) = _run(clip_by_norm, [a], 1.0, segments=[None])
    np.testing.assert_allclose(o, [0.6, 0.8])


@pytest.mark.parametrize("fn", [clip_by_norm, clip_by_global_norm, clip_by_value])
def test_float32_stays_float32(fn):
    g = np.array([0.9, 100.0], dtype=np.float32)
    (o,) = _run(fn, [g], 1.0)
    assert o.dtype == np.float32
    kw = {"segments": [np.array([0, 1])]} if fn is clip_by_norm else {}
    (o,) = _run(fn, [g], 1.0, **kw)
    assert o.dtype == np.float32


def test_optimizer_clips_before_its_step():
    """SGD with lr 1: the step equals minus the clipped gradient, for each clip option."""
    g = np.array([0.9, 100.0])
    for kw, expected in (({"clip_norm": 1.0}, [0.00899964, 0.9999595]),
                         ({"clip_value": 1.0}, [0.9, 1.0]),
                         ({"global_clip_norm": 1.0}, [0.00899964, 0.9999595])):
        p = np.zeros(2)
        SGD(learning_rate=1.0, **kw).step([p], [g.copy()])
        np.testing.assert_allclose(-p, expected, rtol=1e-6)
    # segments reach clip_norm through step()
    p = np.zeros(4)
    SGD(learning_rate=1.0, clip_norm=1.0).step([p], [np.array([3.0, 4.0, 0.3, 0.4])], [np.array([0, 2])])
    np.testing.assert_allclose(-p, [0.6, 0.8, 0.3, 0.4])


def test_at_most_one_clip_option():
    with pytest.raises(ValueError, match="at most one"):
        SGD(clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match="clip_norm must be > 0"):
        SGD(clip_norm=0.0)


@settings(deadline=None, max_examples=50)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e3, 1e3)), st.floats(0.01, 100.0))
def test_clipped_norm_never_exceeds_threshold(g, c):
    (o,) = _run(clip_by_norm, [g], c)
    assert np.linalg.norm(o) <= c * (1 + 1e-12)
    # the direction is kept: o is a non-negative multiple of g
    np.testing.assert_allclose(o * np.linalg.norm(g), g * np.linalg.norm(o), atol=1e-9)
