"""The experiment spec (README.md, "The spec"): YAML or a dict in, a validated ``Config`` out.
``loading`` holds ``Config``, ``load_config`` and ``flatten``; ``models`` the pydantic sections with
every default; ``parts`` the registry checks of part specs; ``messages`` turns pydantic's errors into
one-line ``ConfigError``s (``errors``); ``yaml_text`` reads YAML and applies ``--set`` overrides;
``schema`` is the JSON Schema of ``mlrun schema``; ``names`` the run-name rules. Nothing is
re-exported here, so importing one module (say ``errors``) does not import pydantic.
"""
