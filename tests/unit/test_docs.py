"""The user-facing docs stay true: the README lists every setting once, and
README.md, docs/websocket.md, docs/operations.md and docs/architecture.md cite only files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USER_DOCS = ["README.md", "docs/websocket.md", "docs/operations.md", "docs/architecture.md", "docs/sending.md",
             "docs/webhooks.md"]
TOP_LEVEL = ("web", "workers", "db", "pipeline", "usecases", "cli", "config", "telemetry", "rabbitmq", "realtime",
             "tests", "scripts", "docs", ".ci", "metrics", "deploy")
# gunicorn reads these itself (gunicorn.conf.py); the README lists them beside ours.
NOT_OURS = {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}
# A path under one of our folders, or a bare file name with a known extension.
CITED = re.compile(r"(?<![\w/.:-])((?:%s)/[\w./*<>-]*[\w*>]|[\w.*-]+\.(?:py|md|yaml|yml|json|sh|toml|ini|conf))(?!\w)"
                   % "|".join(re.escape(d) for d in TOP_LEVEL))


def settings_read() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"""env(?:\.get\(|\[|, )["']([A-Z][A-Z0-9_]+)["']""", source))


def readme_settings() -> list[str]:
    table = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)]


def test_the_readme_lists_every_setting_once():
    listed = readme_settings()
    assert settings_read(), "no settings found: the pattern no longer matches config/settings.py"
    assert sorted(n for n in set(listed) if listed.count(n) > 1) == []
    assert sorted(settings_read() - set(listed)) == [], "settings missing from the README's table"
    assert sorted(set(listed) - settings_read() - NOT_OURS) == [], "the README lists settings nobody reads"


def exists(cited: str) -> bool:
    cited = re.sub(r"<[^>]+>", "*", cited)
    if "/" in cited:
        return any(ROOT.glob(cited.rstrip("/"))) or (ROOT / cited).exists()
    return any(p for p in ROOT.rglob(cited) if ".venv" not in p.parts)


@pytest.mark.parametrize("doc", USER_DOCS)
def test_docs_cite_only_files_that_exist(doc):
    text = (ROOT / doc).read_text()
    missing = sorted({c for c in CITED.findall(text) if not exists(c)})
    assert missing == [], f"{doc} cites files that are not in the repository"
