"""Checks one HTTP response against src/controlplane/openapi.json and the conventions of docs/api.md.

The harness calls check() on every response a test receives, so every test is also a
conformance test: an undocumented status, a body that does not match its schema, an error
code that does not belong to its status or an object whose ETag is not its version fails the
test that happened to see it.
"""
import json
import os
import re

import jsonschema
import referencing
import referencing.jsonschema

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPENAPI_PATH = os.path.join(REPO, "src", "controlplane", "openapi.json")
with open(OPENAPI_PATH) as f:
    OPENAPI = json.load(f)

# Schemas are referenced by JSON pointer into the document, so the document's own
# "#/components/..." references resolve against it.
_DOC_URI = "urn:berth:openapi"
_REGISTRY = referencing.Registry().with_resource(
    _DOC_URI, referencing.Resource.from_contents(OPENAPI, default_specification=referencing.jsonschema.DRAFT202012))

# docs/api.md: "RFC 3339 UTC strings with milliseconds". jsonschema does not check formats by
# default (and its date-time check needs an optional package), so the documented form is checked here.
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(_TIMESTAMP.match(value)))

# docs/api.md's error table: which codes each status may carry.
ERROR_CODES = {
    400: {"invalid_argument"}, 401: {"unauthenticated"}, 403: {"permission_denied"}, 404: {"not_found"},
    405: {"method_not_allowed"}, 409: {"already_exists", "failed_precondition", "conflict"}, 412: {"version_mismatch"},
    413: {"payload_too_large"}, 415: {"unsupported_media_type"}, 429: {"rate_limited"}, 500: {"internal"},
    503: {"unavailable"},
}


def _pointer(*parts):
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validate(pointer, instance):
    """Validates instance against the schema at a JSON pointer into openapi.json ("components/schemas/Event")."""
    validator = jsonschema.Draft202012Validator({"$ref": f"{_DOC_URI}#/{pointer}"}, registry=_REGISTRY,
                                                format_checker=_FORMATS)
    validator.validate(instance)


def _template_regex(template):
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")


_TEMPLATES = [(t, _template_regex(t)) for t in OPENAPI["paths"]]


def template_for(path):
    """The openapi.json path template a concrete path falls under, or None."""
    matches = [t for t, rx in _TEMPLATES if rx.match(path)]
    # /v1/projects/p/vms matches only its own template, but keep the most literal one if two ever do.
    return min(matches, key=lambda t: t.count("{")) if matches else None


def check(method, path, status, headers, raw):
    """Raises AssertionError if this response breaks the contract. headers: lower-case names."""
    where = f"{method} {path} -> {status}"
    bare = path.split("?", 1)[0]
    content_type = headers.get("content-type", "")
    template = template_for(bare)
    if template is None or method.lower() not in OPENAPI["paths"][template]:
        # Not in the document: an unknown path is 404, a known path with another method 405 (after
        # authentication, which may refuse first). Both answer in the common error shape.
        wrong = 404 if template is None else 405
        assert status in (401, 429, wrong), f"{where}: expected {wrong} for an undocumented operation"
        pointer = "components/schemas/Error"
    else:
        response = OPENAPI["paths"][template][method.lower()]["responses"].get(str(status))
        assert response is not None, f"{where}: status {status} is not documented for {method} {template}"
        content = response.get("content", {})
        if not content:
            if status == 204:
                assert raw == b"", f"{where}: 204 with a body {raw[:200]!r}"
            return  # nothing documented to check it against (GET /v1/openapi.json documents no content)
        if "application/json" not in content:
            assert any(content_type.startswith(media) for media in content), \
                f"{where}: Content-Type {content_type!r} is not one of {list(content)}"
            return
        if content_type.startswith("text/event-stream"):
            # The stream's frames are checked by the events tests; openapi.json lists only JSON here.
            return
        pointer = _pointer("paths", template, method.lower(), "responses", str(status), "content",
                           "application/json", "schema")
    assert content_type.startswith("application/json"), f"{where}: Content-Type {content_type!r}, not JSON"
    body = json.loads(raw)
    try:
        validate(pointer, body)
    except jsonschema.ValidationError as e:
        raise AssertionError(f"{where}: body does not match openapi.json: {e.message} at "
                             f"{list(e.absolute_path)}\nbody: {raw[:500]!r}") from None
    if status >= 400:
        code = body["error"]["code"]
        assert code in ERROR_CODES.get(status, ()), f"{where}: error code {code!r} does not belong to {status}"
        assert body["error"]["message"], f"{where}: empty error message"
        if status == 429:
            assert int(headers.get("retry-after", "0")) >= 1, f"{where}: 429 without Retry-After"
        if status == 405:
            assert headers.get("allow"), f"{where}: 405 without an Allow header"
    elif isinstance(body, dict) and isinstance(body.get("version"), int):
        # docs/api.md: every stored object comes with ETag: "<version>".
        assert headers.get("etag") == f'"{body["version"]}"', \
            f"{where}: ETag {headers.get('etag')!r} for version {body['version']}"
