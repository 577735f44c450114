"""The outputs of a Bicep deployment as environment variables, under their names from main.bicep.

Azure Resource Manager does not always keep the case of output names (azd has seen
``azurE_RESOURCE_GROUP``; its own OutputParametersFromArmOutputs restores the template's casing,
or upper-cases names it cannot match). Every output of main.bicep is UPPER_SNAKE_CASE
(tests/infra pins that), so upper-casing gives back the exact names the workflow and the scripts
read. Outputs hold names and URLs only; a value with a line break is refused rather than written
into a file that is read line by line.

    az deployment group create ... --query properties.outputs --output json > outputs.json
    python3 infra/scripts/deployment_outputs.py github-env < outputs.json >> "$GITHUB_ENV"
    eval "$(python3 infra/scripts/deployment_outputs.py shell < outputs.json)"
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def normalised(outputs: Mapping[str, Any]) -> dict[str, str]:
    """``{"name": {"type": ..., "value": ...}}`` -> ``{"NAME": "value"}``."""
    result: dict[str, str] = {}
    for name, output in outputs.items():
        key = name.upper()
        if key in result:
            raise SystemExit(f"deployment_outputs: two outputs are named {key} apart from case")
        value = output["value"] if isinstance(output, Mapping) and "value" in output else output
        text = value if isinstance(value, str) else json.dumps(value)
        if "\n" in text or "\r" in text:
            raise SystemExit(f"deployment_outputs: {key} holds a line break")
        result[key] = text
    return result


def lines(outputs: Mapping[str, str], style: str) -> list[str]:
    if style == "shell":
        return [f"export {key}={shlex.quote(value)}" for key, value in sorted(outputs.items())]
    return [f"{key}={value}" for key, value in sorted(outputs.items())]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("style", choices=["github-env", "shell"])
    args = parser.parse_args(argv)
    for line in lines(normalised(json.load(sys.stdin)), args.style):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
