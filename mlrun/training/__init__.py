"""The quiet training loop and what it is built from: trainer (the loop; callbacks for everything else),
setup (every part built once, complete, from a spec), early_stopping, signals."""
