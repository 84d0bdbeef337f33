"""Validates the OpenAPI document with openapi-spec-validator, then checks real
answers against the schemas it declares.

Usage: python3 validate_openapi.py OPENAPI.json ANSWERS.json
ANSWERS.json: [{"path": "/v1.0/host-info", "status": 200, "body": {...}}, ...]
("verb": "get" … for the REST paths; "post" when absent)
"""
import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

doc = json.load(open(sys.argv[1]))
answers = json.load(open(sys.argv[2]))
validate(doc)

registry = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=DRAFT202012))


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


checked = 0
for a in answers:
    ref = "urn:doc#/" + pointer("paths", a["path"], a.get("verb", "post"), "responses", str(a["status"]),
                                "content", "application/json", "schema")
    validator = Draft202012Validator({"$ref": ref}, registry=registry)
    errors = list(validator.iter_errors(a["body"]))
    if errors:
        print(f"{a['path']} {a['status']}: {errors[0].message}")
        sys.exit(1)
    checked += 1

# The checks must be able to fail: a body missing `stat` is refused.
bad = Draft202012Validator({"$ref": "urn:doc#/components/schemas/Ok"}, registry=registry)
assert list(bad.iter_errors({"host": "x"})), "schema accepts an answer without stat"
print(f"openapi ok, {checked} answers valid")
