"""The API's own documentation: the OpenAPI document and Swagger UI.

Swagger UI's files come from the swagger-ui-bundle package and are served
from here, so /docs works offline and loads nothing from a CDN.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, current_app, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("apidocs", __name__)
SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
ASSET_MAX_AGE = 24 * 3600


@cache
def spec() -> dict:
    """The OpenAPI document, read once per process."""
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def _spec_json() -> str:
    # json.dumps rather than jsonify: keep the document's own key order
    # (jsonify sorts keys), which is the order Swagger UI shows.
    return json.dumps(spec(), ensure_ascii=False)


@bp.get("/openapi.json")
def openapi_json():
    return current_app.response_class(_spec_json(), mimetype="application/json")


@bp.get("/docs")
def docs():
    return render_template("docs.html")


@bp.get("/docs/assets/<path:filename>")
def asset(filename: str):
    # send_from_directory refuses paths that leave the folder.
    return send_from_directory(swagger_ui_path, filename, max_age=ASSET_MAX_AGE)
