"""``ConfigError``, the one exception a bad spec raises.

Its own module so the spec modules (loading, yaml_text) share it without importing each other; the public
name is ``mlrun.ConfigError``.
"""


class ConfigError(ValueError):
    """A bad spec: one line with the key path, what was received and how to fix it."""
