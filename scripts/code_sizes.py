"""Print file and function sizes of Herald's production code (not tests).

Lines of code exclude blank lines and comments; a function's size is its
line span. Usage: python scripts/code_sizes.py [ROOT]
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

PACKAGES = ("config", "pipeline", "db", "rabbitmq", "realtime", "usecases", "workers", "web", "cli")


def code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def sizes(root: Path) -> tuple[dict[str, int], dict[str, int]]:
    files, functions = {}, {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).exists() else []:
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            name = str(path.relative_to(root))
            files[name] = code_lines(text)
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return files, functions


def describe(label: str, values: dict[str, int]) -> str:
    top = max(values, key=values.get)
    return (f"{label}: {len(values)}, median {statistics.median(values.values()):g}, "
            f"max {values[top]} ({top})")


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    files, functions = sizes(root)
    print(describe("files (lines of code)", files))
    print(describe("functions (lines)", functions))


if __name__ == "__main__":
    main()
