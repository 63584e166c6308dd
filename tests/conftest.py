"""Suite-wide setup."""

import signal

# A background job of a non-interactive shell (`bash .ci/run &`, a CI runner's step) starts with SIGINT
# ignored, and an ignored signal stays ignored across exec: the signal tests' mlrun processes would never
# see their Ctrl-C. A handled signal is reset to the default on exec, so the children start as from a
# terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
