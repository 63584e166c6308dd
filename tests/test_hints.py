"""The one "did you mean": near matches and the words the messages put them in."""

import subprocess
import sys

from mlrun.hints import did_you_mean, hint, hint_list


def test_near_matches_best_first():
    assert did_you_mean("rleu", ["sigmoid", "relu", "elu"]) == ["relu"]
    assert did_you_mean("acuracy", ["accuracy", "f1"], n=3) == ["accuracy"]
    assert did_you_mean("zzz", ["relu", "elu"]) == []


def test_non_string_input_is_compared_as_text():
    assert did_you_mean(12, ["12a", "b"]) == ["12a"]


def test_cutoff_is_passed_on():
    assert did_you_mean("rel", ["relu"], cutoff=0.95) == []
    assert did_you_mean("rel", ["relu"], cutoff=0.5) == ["relu"]


def test_message_words():
    assert hint(["relu"]) == " (did you mean 'relu'?)"
    assert hint(["relu", "elu"]) == " (did you mean 'relu'?)"
    assert hint([]) == ""
    assert hint_list(["test.accuracy", "val.accuracy"]) == "; did you mean test.accuracy, val.accuracy?"
    assert hint_list([]) == ""


def test_lowest_layer_imports_nothing_from_mlrun():
    code = "import sys, mlrun.hints; print(sorted(m for m in sys.modules if m.startswith('mlrun')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['mlrun', 'mlrun.hints']"
