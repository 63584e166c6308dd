"""One training run from a spec, as a user asks for it: run (mlrun.train, mlrun.resume), outcome (training in
memory), record (writing the run directory), recorder (the per-epoch callback and checkpoints), model
(mlrun.load_model, predict), preflight (the checks before any data is read)."""
