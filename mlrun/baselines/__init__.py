"""Classic scikit-learn classifiers and regressors fitted beside the network, on its split and scaling:
estimators (the table of names, defaults and multiclass nature), specs (a spec's ``baselines:`` list
checked and built into estimators), fitting (fit, predict and score them with the network's metrics)."""
