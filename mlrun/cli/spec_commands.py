"""`mlrun validate`, `mlrun schema` and `mlrun registry`: the spec and its parts, without training."""

from __future__ import annotations

import click

from mlrun.cli.errors import BadInput


@click.command(short_help="Check specs without training.")
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key (YAML value).")
@click.option("--show", is_flag=True, help="Print the resolved spec (every default filled in) as YAML.")
@click.option("--data", "check_data", is_flag=True,
              help="Also load the data (read and check the CSV, or build the dataset) and print its splits.")
def validate(specs, overrides, show, check_data):
    """Check specs without training: "ok: SPEC" (and warnings), or a one-line error (exit 2)."""
    from mlrun.data.dataset import DataError
    from mlrun.registry import RegistryError
    from mlrun.spec.errors import ConfigError
    from mlrun.spec.loading import load_config
    from mlrun.spec.yaml_text import dump_yaml

    errors = []
    for spec in specs:
        try:
            cfg = load_config(spec, overrides)
            from mlrun.experiment.preflight import baseline_specs  # the baselines list is checked above the spec

            baseline_specs(cfg)
            dataset = None
            if check_data:
                from mlrun.training.setup import check_sizes, check_task_fit, load_data  # --data only

                dataset = load_data(cfg)
                check_task_fit(cfg, dataset)
                check_sizes(cfg, dataset)
        except (ConfigError, DataError, RegistryError) as exc:
            text = str(exc) if str(exc).startswith(str(spec)) else f"{spec}: {exc}"
            errors.append(text)
            if len(specs) > 1:
                click.echo(f"error: {text}", err=True)
            continue
        click.echo(f"ok: {spec}" + (f" (data: {dataset.summary()})" if dataset is not None else ""))
        for warning in cfg.warnings:
            click.echo(click.style("warning: ", fg="yellow") + f"{spec}: {warning}", err=True)
        if show:
            click.echo(dump_yaml(cfg.to_dict()), nl=False)
    if errors:
        raise BadInput(errors[0] if len(specs) == 1 else f"{len(errors)} of {len(specs)} specs are invalid")


@click.command(short_help="Print the spec's JSON Schema.")
def schema():
    """Print the spec's JSON Schema (for yaml-language-server: `# yaml-language-server: $schema=...`)."""
    import json

    from mlrun.baselines.specs import baselines_schema  # above the spec: the CLI puts the two together
    from mlrun.spec.schema import json_schema

    click.echo(json.dumps(json_schema({"baselines": baselines_schema()}), indent=2))


@click.command("registry", short_help="List the registered parts and parameters.")
@click.argument("kind", required=False)
def registry_cmd(kind):
    """List the registered parts (all kinds, or one: activation initializer layer loss optimizer schedule)."""
    from rich.table import Table
    from rich.text import Text

    from mlrun import registry
    from mlrun.cli.console import make_console

    kinds = [kind] if kind else list(registry.KINDS)
    try:
        rows = {k: registry.describe(k) for k in kinds}
    except registry.RegistryError as exc:
        raise BadInput(str(exc)) from None
    console = make_console()
    for k, parts in rows.items():
        table = Table(title=Text(k), title_justify="left", show_lines=False)
        for column in ("name", "parameters", "summary"):
            table.add_column(column, overflow="fold")
        for part in parts:
            params = ", ".join(p if info["required"] else f"{p}={info['default']!r}"
                               for p, info in part["params"].items())
            # docstrings are text: "dy/dx = [x > 0]" and "z[label]" are not rich markup
            table.add_row(Text(part["name"]), Text(params or "-"), Text(part["summary"]))
        console.print(table)
