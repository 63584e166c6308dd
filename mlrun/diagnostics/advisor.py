"""The advisor: rules over a run's per-layer measurements and its spec, each finding naming its
evidence (layer, epoch, quantity, value, threshold) and the study note's remedy as ``--set`` lines.

    findings(rows, layers, spec) -> [{"rule", "message", "evidence": {...}, "remedy": ["--set ...", ...]}]
"""

from __future__ import annotations

import math
from collections import defaultdict

# -- named thresholds -------------------------------------------------------------------------------
VANISHING_RATIO = 1e-3        # first hidden layer's grad_std below 1/1000 of the last one's
EXPLODING_GROWTH = 1e3        # a layer's weight-gradient norm grown 1000-fold over its initial value
DEAD_SHARE = 0.5              # more than half a layer's units dead
SATURATED_SHARE = 0.5         # more than half a layer's values saturated
TOP_SIGMOID_MEAN = 0.1        # the top hidden logistic layer's mean activation driven below this
UPDATE_RATIO_HIGH = 1e-2      # ||ΔW|| / ||W|| per step: ~1e-3 is healthy (Karpathy's rule of thumb)
UPDATE_RATIO_LOW = 1e-4
SELU_INITIALIZERS = {"lecun_normal", "auto"}


def _series(rows) -> dict:
    """{(layer, quantity): [(epoch, value), ...]} in epoch order."""
    out = defaultdict(list)
    for row in rows:
        out[(int(row["layer"]), row["quantity"])].append((int(row["epoch"]), float(row["value"])))
    return {k: sorted(v) for k, v in out.items()}


def _finding(rule, message, remedy, layer=None, epoch=None, quantity=None, value=None, threshold=None) -> dict:
    evidence = {"layer": layer, "epoch": epoch, "quantity": quantity, "value": value, "threshold": threshold}
    return {"rule": rule, "message": message, "evidence": {k: v for k, v in evidence.items() if v is not None},
            "remedy": list(remedy)}


def _lower_lr(spec) -> str:
    lr = float((spec.get("optimizer") or {}).get("learning_rate", 1e-3))
    return f"--set optimizer.learning_rate={lr / 10:g}"


def _worst(series, layer, quantity, after=-1):
    points = [(e, v) for e, v in series.get((layer, quantity), []) if e > after and not math.isnan(v)]
    return max(points, key=lambda p: p[1]) if points else None


def vanishing(series, layers, spec) -> list[dict]:
    if len(layers) < 2:
        return []
    first, last = layers[0]["layer"], layers[-1]["layer"]
    for epoch, low in series.get((first, "grad_std"), []):
        high = dict(series.get((last, "grad_std"), [])).get(epoch)
        if high and high > 0 and low / high < VANISHING_RATIO:
            return [_finding("vanishing_gradients",
                             f"vanishing gradients: layer {first}'s back-propagated gradient std is {low / high:.2g}"
                             f" x layer {last}'s at epoch {epoch} (below {VANISHING_RATIO:g})",
                             ["--set model.initializer=glorot_uniform", "--set model.batch_norm=true",
                              "--set model.activation=elu"],
                             first, epoch, "grad_std ratio first/last", low / high, VANISHING_RATIO)]
    return []


def exploding(series, layers, spec) -> list[dict]:
    for info in layers:
        points = series.get((info["layer"], "weight_grad_norm"), [])
        if not points:
            continue
        start = points[0][1]
        for epoch, value in points:
            if not math.isfinite(value) or (start > 0 and value / start > EXPLODING_GROWTH):
                return [_finding("exploding_gradients",
                                 f"exploding gradients: layer {info['layer']}'s weight-gradient norm went from "
                                 f"{start:.3g} to {value:.3g} by epoch {epoch}",
                                 ["--set optimizer.clip_norm=1.0", _lower_lr(spec)],
                                 info["layer"], epoch, "weight_grad_norm growth",
                                 value / start if start > 0 else value, EXPLODING_GROWTH)]
    return []


def dead_units(series, layers, spec) -> list[dict]:
    found = []
    for info in layers:
        worst = _worst(series, info["layer"], "dead")
        if worst and worst[1] > DEAD_SHARE:
            found.append(_finding(
                "dead_relus", f"dead units: {worst[1]:.0%} of layer {info['layer']}'s {info['activation']} units "
                f"output 0 for every probe row at epoch {worst[0]}",
                ['--set "model.activation={name: leaky_relu, alpha: 0.2}"', "--set model.initializer=he_normal",
                 _lower_lr(spec)], info["layer"], worst[0], "dead", worst[1], DEAD_SHARE))
    return found[:1]


def saturation(series, layers, spec) -> list[dict]:
    """More than half of a layer's values at their bounds (the top hidden layer reported first, as
    Glorot & Bengio 2010 watch it), and the top hidden logistic layer's mean driven towards 0."""
    remedy = ["--set model.initializer=glorot_uniform", "--set model.activation=tanh",
              "--set model.activation=elu", "--set model.batch_norm=true"]
    found, top = [], layers[-1]
    saturated = [(info, _worst(series, info["layer"], "saturated")) for info in reversed(layers)]
    saturated = [(info, worst) for info, worst in saturated if worst and worst[1] > SATURATED_SHARE]
    if saturated:
        info, (epoch, share) = saturated[0]
        where = f"the top hidden layer (layer {info['layer']})" if info is top else f"layer {info['layer']}"
        found.append(_finding(
            "saturation", f"saturation: {share:.0%} of {where}'s {info['activation']} values are at their bounds "
            f"at epoch {epoch} (threshold {SATURATED_SHARE:.0%}; {len(saturated)} of {len(layers)} layers)",
            remedy, info["layer"], epoch, "saturated", share, SATURATED_SHARE))
    points = series.get((top["layer"], "act_mean"), []) if top["activation"] == "sigmoid" else []
    low = min(points, key=lambda p: p[1]) if points else None
    if low and low[1] < TOP_SIGMOID_MEAN:
        found.append(_finding(
            "top_layer_to_zero", f"the top hidden logistic layer (layer {top['layer']}) is driven towards 0: mean "
            f"activation {low[1]:.3f} at epoch {low[0]} (Glorot & Bengio 2010's finding)",
            remedy, top["layer"], low[0], "act_mean", low[1], TOP_SIGMOID_MEAN))
    return found


def update_ratio(series, layers, spec) -> list[dict]:
    values = sorted(v for info in layers for e, v in series.get((info["layer"], "update_ratio"), [])
                    if math.isfinite(v))
    if not values:
        return []
    median = values[len(values) // 2]
    if UPDATE_RATIO_LOW <= median <= UPDATE_RATIO_HIGH:
        return []
    high = median > UPDATE_RATIO_HIGH
    lr = float((spec.get("optimizer") or {}).get("learning_rate", 1e-3))
    return [_finding(
        "update_ratio", f"the update-to-weight ratio ||dW||/||W|| is {median:.2g} per step (median over layers and "
        f"epochs; ~1e-3 is healthy): the learning rate {lr:g} is likely too {'high' if high else 'low'}",
        ["mlrun lr-find CONFIG", f"--set optimizer.learning_rate={lr / 10 if high else lr * 10:g}"],
        None, None, "update_ratio median", median, UPDATE_RATIO_HIGH if high else UPDATE_RATIO_LOW)]


def selu_preconditions(spec) -> list[dict]:
    """SELU self-normalises only with standardised inputs, LeCun normal init, no batch norm, alpha dropout
    and a sequential network (Klambauer et al. 2017; the note). mlrun's networks are always sequential."""
    model, data = spec.get("model") or {}, spec.get("data") or {}
    if not _uses_selu(model):
        return []
    found, layers = [], model.get("layers") or []
    checks = [
        (data.get("scale", "standard") != "standard", "data.scale", data.get("scale"),
         "inputs are not standardised", "--set data.scale=standard"),
        (str(_name(model.get("initializer", "auto"))) not in SELU_INITIALIZERS, "model.initializer",
         _name(model.get("initializer")), "the initializer is not LeCun normal",
         "--set model.initializer=lecun_normal"),
        (bool(model.get("batch_norm")) or any(_name(s) == "batch_norm" for s in layers), "model.batch_norm", True,
         "batch norm is on", "--set model.batch_norm=false"),
        (any(_name(s) == "dropout" for s in layers), "model.layers", "dropout",
         "plain dropout breaks the fixed point", "use {name: alpha_dropout, rate: 0.05} in model.layers"),
    ]
    for broken, key, value, why, fix in checks:
        if broken:
            found.append(_finding("selu_preconditions", f"SELU will not self-normalise: {why} ({key}: {value})",
                                  [fix], quantity=key, value=value))
    return found


def _name(spec):
    return spec.get("name") if isinstance(spec, dict) else spec


def _uses_selu(model) -> bool:
    if model.get("layers"):
        return any(_name(s) == "selu" or (isinstance(s, dict) and _name(s.get("activation")) == "selu")
                   for s in model["layers"])
    return _name(model.get("activation")) == "selu"


RULES = (vanishing, exploding, dead_units, saturation, update_ratio)


def findings(rows, layers, spec) -> list[dict]:
    """Every rule's findings for a run's tidy rows, its per-layer facts and its spec (a dict)."""
    series = _series(rows)
    found = [f for rule in RULES for f in rule(series, layers, spec)] if layers else []
    found += selu_preconditions(spec)
    for finding in found:
        finding["remedy"] = [line for line in finding["remedy"] if not _already(spec, line)]
    return found


def _already(spec, line: str) -> bool:
    """A ``--set key=value`` remedy the spec already follows (initializer auto resolved as the layers do)."""
    if not line.startswith("--set ") or "=" not in line:
        return False
    key, value = line[len("--set "):].strip('"').split("=", 1)
    section, _, name = key.partition(".")
    current = (spec.get(section) or {}).get(name) if name else spec.get(section)
    if key == "model.initializer" and current == "auto":
        from mlrun.nn.initializers import auto_initializer

        current = auto_initializer(str(_name((spec.get("model") or {}).get("activation"))))
    return str(_name(current)).lower() == value.lower()


def finding_text(finding: dict) -> str:
    """One line per finding: the message and its remedies."""
    remedy = "; ".join(finding.get("remedy") or [])
    return f"{finding['message']}; try: {remedy}" if remedy else finding["message"]
