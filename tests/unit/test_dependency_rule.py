"""The dependency rule of DESIGN.md, made executable with import-linter
(contracts in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 13 kept, 0 broken" in result.stdout


def test_nothing_outside_config_reads_the_environment():
    offenders = []
    for path in [*ROOT.glob("*.py"), *ROOT.glob("*/**/*.py")]:
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"config", "tests", ".venv"} or "site-packages" in relative.parts:
            continue
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            offenders.append(str(relative))
    assert offenders == []
