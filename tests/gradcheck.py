"""Central-difference gradient checks (float64) shared by the tests of layers, activations and losses.

    check_layer(layer, x)      # input and parameter gradients of sum(layer.forward(x) * R), R fixed
    check_loss(loss, t, y)     # d loss.value / d y_pred against loss.gradient and value_and_gradient
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6
TOL = 1e-6


def numerical_gradient(f, x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """d f() / d x by central differences; x is perturbed in place, one element at a time, and restored."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: x must be contiguous
    assert np.shares_memory(flat, x)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        grad.flat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric) -> float:
    """‖a - n‖ / max(‖a‖, ‖n‖), with a floor so two all-zero gradients agree."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric), 1e-8)
    return float(np.linalg.norm(analytic - numeric) / scale)


def layer_errors(layer, x, training=True, before_forward=None, seed=0) -> dict[str, float]:
    """Relative errors of dx and of every grads[k] for the objective sum(layer.forward(x) * R).

    ``before_forward(layer)`` runs before each forward (e.g. re-seeding ``layer.rng`` so a random
    mask or slope is the same in every evaluation). Also asserts forward leaves x alone and backward
    leaves dy alone.
    """
    x = np.array(x, dtype=np.float64)

    def forward():
        if before_forward is not None:
            before_forward(layer)
        return layer.forward(x, training)

    x_before = x.copy()
    y = forward()
    np.testing.assert_array_equal(x, x_before, err_msg="forward modified its input")
    R = np.random.default_rng(seed).standard_normal(y.shape)
    dy = R.copy()
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, R, err_msg="backward modified dy")
    analytic = {"x": dx, **{k: np.array(g) for k, g in layer.grads.items()}}

    def objective():
        return float(np.sum(forward() * R))

    numeric = {"x": numerical_gradient(objective, x)}
    for key in layer.grads:
        numeric[key] = numerical_gradient(objective, layer.params[key])
    return {k: relative_error(analytic[k], numeric[k]) for k in analytic}


def check_layer(layer, x, training=True, before_forward=None, tol=TOL) -> dict[str, float]:
    """Assert every gradient of ``layer`` matches central differences to ``tol`` (relative)."""
    errors = layer_errors(layer, x, training, before_forward)
    bad = {k: e for k, e in errors.items() if not e < tol}
    assert not bad, f"gradient check failed for {layer!r}: {bad}"
    return errors


def check_loss(loss, y_true, y_pred, tol=TOL) -> float:
    """Assert loss.gradient and value_and_gradient match d value / d y_pred (central differences)."""
    y_pred = np.array(y_pred, dtype=np.float64)
    numeric = numerical_gradient(lambda: loss.value(y_true, y_pred), y_pred)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    assert value == loss.value(y_true, y_pred)
    np.testing.assert_allclose(grad, loss.gradient(y_true, y_pred), rtol=1e-12, atol=1e-15)
    assert grad.shape == y_pred.shape
    error = relative_error(grad, numeric)
    assert error < tol, f"gradient check failed for {loss!r}: {error}"
    return error
