#!/usr/bin/env python3
"""Checks docs/openapi.yaml against itself and against the routes the dispatcher registers.

Usage: deploy/tests/check_openapi.py   (from the repository root)

- The document is OpenAPI 3.0.3, every $ref resolves, every operation has responses and an operationId (unique),
  every {param} of a path is declared, and every schema with `nullable` also has a `type` (OpenAPI 3.0 ignores
  nullable otherwise).
- Every route dispatcher/**/*.cc registers (Pistache Routes::Get/Post/Put/Delete/Patch, with a string literal
  or a constexpr std::string_view constant of the same file) is documented with the same method, and every
  documented operation is registered. deploy/tests/check_openapi_live.py then checks a running server's answers.
Exits 1 with each problem on stderr. Needs python3-yaml.
"""
import glob
import re
import sys

import yaml

DOC = "docs/openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ROUTE = re.compile(r'Routes::(Get|Post|Put|Delete|Patch)\(\s*\w+\s*,\s*(?:"([^"]+)"|std::string\((\w+)\))')
CONSTANT = re.compile(r'constexpr\s+std::string_view\s+(\w+)\s*=\s*"([^"]+)"')


def registered_routes():
    routes = {}
    for path in glob.glob("dispatcher/**/*.cc", recursive=True):
        if path.endswith("_test.cc"):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        constants = dict(CONSTANT.findall(text))
        for method, literal, constant in ROUTE.findall(text):
            route = literal or constants.get(constant)
            if route is None:
                print(f"check_openapi: warning: {path}: cannot resolve route constant {constant}", file=sys.stderr)
                continue
            route = re.sub(r":(\w+)", r"{\1}", route)  # Pistache's /jobs/:id is OpenAPI's /jobs/{id}
            routes[(method.lower(), route)] = path
    return routes


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def walk(node, where, visit):
    visit(node, where)
    if isinstance(node, dict):
        for key, value in node.items():
            walk(value, f"{where}/{key}", visit)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(value, f"{where}[{i}]", visit)


def main():
    problems = []
    with open(DOC, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if doc.get("openapi") != "3.0.3":
        problems.append(f"openapi must be 3.0.3, got {doc.get('openapi')!r}")

    def visit(node, where):
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and resolve(doc, ref) is None:
            problems.append(f"{where}: $ref {ref} does not resolve")
        if node.get("nullable") is True and "type" not in node:
            problems.append(f"{where}: nullable without type has no effect in OpenAPI 3.0")

    walk(doc, "#", visit)

    documented = set()
    operation_ids = {}
    for route, item in doc.get("paths", {}).items():
        shared = [p.get("name") for p in item.get("parameters", []) if "name" in p]
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            documented.add((method, route))
            where = f"{method.upper()} {route}"
            if not operation.get("responses"):
                problems.append(f"{where}: no responses")
            operation_id = operation.get("operationId")
            if not operation_id:
                problems.append(f"{where}: no operationId")
            elif operation_id in operation_ids:
                problems.append(f"{where}: operationId {operation_id} also used by {operation_ids[operation_id]}")
            operation_ids[operation_id] = where
            names = shared[:]
            for parameter in operation.get("parameters", []):
                parameter = resolve(doc, parameter["$ref"]) if "$ref" in parameter else parameter
                names.append(parameter.get("name") if parameter else None)
            for resolved in (resolve(doc, p["$ref"]) for p in item.get("parameters", []) if "$ref" in p):
                names.append(resolved.get("name") if resolved else None)
            for name in re.findall(r"{(\w+)}", route):
                if name not in names:
                    problems.append(f"{where}: path parameter {name} is not declared")

    registered = registered_routes()
    for (method, route), source in sorted(registered.items()):
        if (method, route) not in documented:
            problems.append(f"{method.upper()} {route} ({source}) is not in {DOC}")
    for method, route in sorted(documented - set(registered)):
        problems.append(f"{method.upper()} {route} is documented but no dispatcher source registers it")

    for problem in problems:
        print(f"check_openapi: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_openapi: {len(documented)} operations documented, the {len(registered)} routes the dispatcher "
          "registers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
