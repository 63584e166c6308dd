"""The learning-rate range test (mlrun lr-find, max_lr: auto): range_test (the test and its run directory),
suggestions (the curve's smoothing and the rules that turn it into a learning rate)."""
