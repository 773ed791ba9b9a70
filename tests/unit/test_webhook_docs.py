"""The verification example in docs/webhooks.md works against Herald's signer."""

from __future__ import annotations

import re
import time
from pathlib import Path

from pipeline.webhook_signing import signature_header

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def test_the_documented_verification_accepts_herald_signatures_and_nothing_else():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # the integrators' example, as printed
    verify = namespace["verify"]
    body, now = b'{"id":"evt_1","type":"ping"}', int(time.time())
    assert verify(signature_header(["whsec_new", "whsec_old"], now, body), body, "whsec_old")
    assert verify(signature_header(["whsec_new"], now, body), body, "whsec_new")
    assert not verify(signature_header(["whsec_new"], now, body), body + b" ", "whsec_new")
    assert not verify(signature_header(["whsec_new"], now - 301, body), body, "whsec_new")
    assert not verify("v1=abc", body, "whsec_new")
