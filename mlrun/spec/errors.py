"""``ConfigError``, the one exception a bad spec raises.

Its own module so the spec modules (config, spec_yaml) share it without importing each other; the public
name stays ``mlrun.config.ConfigError``.
"""


class ConfigError(ValueError):
    """A bad spec: one line with the key path, what was received and how to fix it."""
