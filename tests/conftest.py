"""Suite-wide setup."""

import os
import signal

# Figures are drawn in this process unless a test asks for figure processes (test_figure_pool): tests
# that spy on a drawing function see it called here, and no process outlives a test that forgot one.
os.environ.setdefault("MLRUN_FIGURE_WORKERS", "0")

# A background job of a non-interactive shell (`bash .ci/run &`, a CI runner's step) starts with SIGINT
# ignored, and an ignored signal stays ignored across exec: the signal tests' mlrun processes would never
# see their Ctrl-C. A handled signal is reset to the default on exec, so the children start as from a
# terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
