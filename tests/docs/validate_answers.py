"""Checks answers against the answer schemas the OpenAPI document declares,
and that those schemas are strict: for each answer, every JSON object in it
must be refused once it carries a key the declaration does not have.

Usage: python3 validate_answers.py OPENAPI.json ANSWERS.json
ANSWERS.json: [{"path": "/v1.0/host-info", "body": {...}}, ...] (all 200 answers)
"""
import copy
import json
import sys

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

doc = json.load(open(sys.argv[1]))
answers = json.load(open(sys.argv[2]))
failures = []


def objects(value, where="$"):
    """Every object in a JSON value, with its JSONPath-like location."""
    if isinstance(value, dict):
        yield where, value
        for k, v in value.items():
            yield from objects(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from objects(v, f"{where}[{i}]")


def locate(root, where):
    """The object at a location `objects` gave (on a copy of the answer)."""
    node = root
    for part in where[1:].replace("[", ".[").split(".")[1:]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


checked = 0
for a in answers:
    schema = doc["paths"][a["path"]]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(schema)
    e = best_match(validator.iter_errors(a["body"]))
    if e is not None:
        # the most specific error (inside anyOf), without the whole value
        where = "/".join(map(str, e.absolute_path)) or "(top)"
        failures.append(f"{a['path']}: at {where}: {e.message[:300]}")
        continue
    # strictness: an undeclared key is refused wherever it is added
    for where, _ in objects(a["body"]):
        mutated = copy.deepcopy(a["body"])
        locate(mutated, where)["undocumented_field"] = "x"
        if validator.is_valid(mutated):
            failures.append(f"{a['path']}: an undeclared key at {where} is accepted")
    checked += 1

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{checked} answers valid and their schemas strict")
