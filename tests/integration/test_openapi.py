"""The OpenAPI document is valid, matches the app's routes both ways, its
examples fit its schemas, and /docs is served entirely from this host."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from web.blueprints.apidocs import spec as load_spec

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
# Routes that are not part of the API: files behind /static and /docs.
UNDOCUMENTED = re.compile(r"^/(static|docs/assets)/")
SPEC_URI = "urn:herald:openapi"


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def _openapi_path(rule: str) -> str:
    """Flask's `/v1/messages/<int:message_id>` → OpenAPI's `/v1/messages/{message_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _app_operations(app) -> set[tuple[str, str]]:
    return {(_openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules() if not UNDOCUMENTED.match(rule.rule)
            for method in rule.methods if method.lower() in HTTP_METHODS}


def _spec_operations(spec) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS}


def test_the_document_is_valid_openapi(spec):
    validate(spec)


def test_the_document_has_the_package_version(spec):
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert spec["info"]["version"] == pyproject["project"]["version"]


def test_every_route_is_documented(app, spec):
    missing = _app_operations(app) - _spec_operations(spec)
    assert not missing, f"routes missing from web/openapi.yaml: {sorted(missing)}"


def test_every_documented_operation_exists(app, spec):
    extra = _spec_operations(spec) - _app_operations(app)
    assert not extra, f"web/openapi.yaml documents operations the app lacks: {sorted(extra)}"


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _media_types(spec):
    """(where, JSON pointer of the media type object, media type object) for every body."""
    def deref(obj, pointer):
        while "$ref" in obj:
            pointer = obj["$ref"].lstrip("#/")
            obj = spec
            for part in pointer.split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj, pointer

    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            bodies = []
            if "requestBody" in op:
                bodies.append(("request", *deref(op["requestBody"], _pointer("paths", path, method, "requestBody"))))
            for status, response in op["responses"].items():
                bodies.append((status, *deref(response, _pointer("paths", path, method, "responses", status))))
            for label, body, pointer in bodies:
                for name, media in body.get("content", {}).items():
                    yield f"{method.upper()} {path} {label} {name}", f"{pointer}/{_pointer('content', name)}", media


def test_every_body_has_an_example_that_fits_its_schema(spec):
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    problems = []
    for where, pointer, media in _media_types(spec):
        examples = [media["example"]] if "example" in media else [
            e["value"] for e in media.get("examples", {}).values()]
        if not examples:
            problems.append(f"{where}: no example")
        validator = OAS30Validator({"$ref": f"{SPEC_URI}#/{pointer}/schema"}, registry=registry)
        for example in examples:
            problems += [f"{where}: {error.message}" for error in validator.iter_errors(example)]
    assert not problems, "\n".join(problems)


def test_examples_are_checked_for_real(spec):
    """Guards the test above: a wrong example must be caught."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    validator = OAS30Validator({"$ref": f"{SPEC_URI}#/components/schemas/Problem"}, registry=registry)
    assert not validator.is_valid({"type": "x", "title": "x", "status": 400, "detail": "x", "code": "no_such_code"})
    assert validator.is_valid({"type": "x", "title": "x", "status": 400, "detail": "x", "code": "bad_request"})


class _Contract:
    """Checks real answers against the document: the status is documented
    for the operation and the body fits the documented schema."""

    def __init__(self, spec):
        self.spec = spec
        self.registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
        self.media = {where: pointer for where, pointer, _ in _media_types(spec)}

    def check(self, response, method: str, path: str, code: str | None = None):
        operation = self.spec["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {path} answered {status}: undocumented"
        if code is not None:
            assert response.get_json()["code"] == code
        if not response.data:
            return response
        where = f"{method.upper()} {path} {status} {response.mimetype}"
        assert where in self.media, f"{where}: undocumented media type"
        validator = OAS30Validator({"$ref": f"{SPEC_URI}#/{self.media[where]}/schema"}, registry=self.registry)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert not errors, f"{where}: {errors}"
        return response


def test_real_answers_match_the_document(client, auth, spec):
    contract = _Contract(spec)
    business, other, mobile = auth.user("business"), auth.user("business"), auth.user("mobile")
    as_business, as_mobile = auth.headers(business), auth.headers(mobile)

    contract.check(client.get("/healthz"), "get", "/healthz")
    contract.check(client.get("/readyz"), "get", "/readyz")

    send = "/v1/messages"
    contract.check(client.post(send, json={"to": [mobile.id], "body": "hi"}), "post", send, "unauthenticated")
    contract.check(client.post(send, json={"to": [mobile.id], "body": "hi"}, headers=as_mobile), "post", send, "forbidden")
    contract.check(client.post(send, data="hi", headers=as_business), "post", send, "unsupported_media_type")
    contract.check(client.post(send, data="{", content_type="application/json", headers=as_business),
                   "post", send, "bad_request")
    contract.check(client.post(send, json={"to": []}, headers=as_business), "post", send, "validation_failed")
    contract.check(client.post(send, json={"to": ["0812"], "body": "hi"}, headers=as_business),
                   "post", send, "invalid_phone_number")
    contract.check(client.post(send, json={"to": [business.id], "body": "hi"}, headers=as_business),
                   "post", send, "recipient_not_found")
    keyed = {**as_business, "Idempotency-Key": "k-1"}
    first = contract.check(client.post(send, json={"to": [mobile.id, "+66898765432"], "body": "hi"}, headers=keyed),
                           "post", send)
    assert first.status_code == 202 and first.headers["Location"] == f"/v1/messages/{first.json['id']}"
    replay = contract.check(client.post(send, json={"to": [mobile.id, "+66898765432"], "body": "hi"}, headers=keyed),
                            "post", send)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == first.json
    contract.check(client.post(send, json={"to": [mobile.id], "body": "other"}, headers=keyed),
                   "post", send, "idempotency_key_reused")

    status = "/v1/messages/{message_id}"
    url = f"/v1/messages/{first.json['id']}"
    assert contract.check(client.get(url, headers=as_business), "get", status).status_code == 200
    contract.check(client.get(url, headers=auth.headers(other)), "get", status, "not_found")
    contract.check(client.get(url), "get", status, "unauthenticated")

    replies = "/v1/messages/{message_id}/replies"
    contract.check(client.post(f"{url}/replies", json={"body": "thanks"}, headers=as_mobile),
                   "post", replies, "reply_not_allowed")
    contract.check(client.post("/v1/messages/999999/replies", headers=as_mobile), "post", replies, "not_found")

    ticket = contract.check(client.post("/v1/ws/ticket", headers=as_mobile), "post", "/v1/ws/ticket")
    assert ticket.status_code == 201
    contract.check(client.post("/v1/ws/ticket", headers=as_business), "post", "/v1/ws/ticket", "forbidden")

    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    contract.check(client.get("/v1/ws", headers=upgrade), "get", "/v1/ws", "invalid_token")
    contract.check(client.get("/v1/ws?ticket=spent", headers=upgrade), "get", "/v1/ws", "invalid_token")
    contract.check(client.get("/v1/ws", headers={**upgrade, **as_business}), "get", "/v1/ws", "forbidden")
    contract.check(client.get("/v1/ws", headers={**upgrade, **as_mobile, "Origin": "https://evil.example"}),
                   "get", "/v1/ws", "origin_not_allowed")
    contract.check(client.get("/v1/ws?since=-1", headers={**upgrade, **as_mobile}), "get", "/v1/ws", "bad_request")

    contract.check(client.post("/v1/auth/otp", json={"phone": "0812"}), "post", "/v1/auth/otp", "invalid_phone_number")
    contract.check(client.post("/v1/auth/otp", json={"phone": "+66 81 234 5678"}), "post", "/v1/auth/otp")
    contract.check(client.post("/v1/auth/otp/verify", json={"phone": "+66812345678", "code": "000000"}),
                   "post", "/v1/auth/otp/verify", "invalid_otp")
    contract.check(client.post("/v1/auth/otp/verify", json={"phone": "+66812345678"}),
                   "post", "/v1/auth/otp/verify", "validation_failed")
    contract.check(client.post("/v1/auth/login", json={"username": "nobody", "password": "x"}),
                   "post", "/v1/auth/login", "invalid_credentials")
    contract.check(client.post("/v1/auth/login", json={}), "post", "/v1/auth/login", "validation_failed")
    contract.check(client.post("/v1/auth/refresh", json={"refresh_token": "bogus"}),
                   "post", "/v1/auth/refresh", "invalid_token")


def test_openapi_json_serves_the_document(client, spec):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == spec


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_loads_only_local_assets(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    links = _Links()
    links.feed(page)
    assert links.urls, "the page references no assets"
    foreign = [url for url in links.urls if urlsplit(url).scheme or urlsplit(url).netloc]
    assert not foreign, f"/docs loads from other hosts: {foreign}"
    assert not re.search(r"https?://(?!localhost)", page), "the page names another host"
    assert any(url.startswith("/docs/assets/") for url in links.urls)
    for url in links.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.data, url
        asset.close()


def test_assets_cannot_leave_their_folder(client):
    assert client.get("/docs/assets/../__init__.py").status_code == 404
    assert client.get("/docs/assets/no-such-file.js").status_code == 404


def test_the_webhook_events_are_documented_and_their_examples_fit(spec):
    """`x-webhooks` (OpenAPI 3.1's `webhooks`, D83): every event type Herald sends, with a fitting example."""
    from pipeline.webhook_events import MESSAGE_STATUS, PING

    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    assert {MESSAGE_STATUS, PING} <= set(spec["x-webhooks"])
    for name, item in spec["x-webhooks"].items():
        media = item["post"]["requestBody"]["content"]["application/json"]
        validator = OAS30Validator({"$ref": f"{SPEC_URI}#/{_pointer('x-webhooks', name, 'post', 'requestBody', 'content', 'application/json', 'schema')}"},
                                   registry=registry)
        assert [e.message for e in validator.iter_errors(media["example"])] == [], name
        assert not validator.is_valid({**media["example"], "type": "other"})


def test_real_webhook_answers_match_the_document(client, auth, spec):
    contract = _Contract(spec)
    business, stranger = auth.user("business"), auth.user("business")
    headers = auth.headers(business)
    refused = client.post("/v1/webhooks", json={"url": "ftp://x.example/", "events": ["message.status"]},
                          headers=headers)
    contract.check(refused, "post", "/v1/webhooks", "webhook_url_refused")
    contract.check(client.post("/v1/webhooks", json={"url": "https://x.example/", "events": []}, headers=headers),
                   "post", "/v1/webhooks", "validation_failed")
    contract.check(client.get("/v1/webhooks", headers=headers), "get", "/v1/webhooks")
    one = "/v1/webhooks/{endpoint_id}"
    contract.check(client.get("/v1/webhooks/999", headers=auth.headers(stranger)), "get", one, "not_found")
    contract.check(client.post("/v1/webhooks/999/test", headers=headers), "post", one + "/test", "not_found")
