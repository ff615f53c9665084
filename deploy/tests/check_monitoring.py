#!/usr/bin/env python3
"""Checks deploy/prometheus and deploy/grafana beyond what promtool checks on its own.

Usage: deploy/tests/check_monitoring.py [--promtool promtool]   (from the repository root)

- alerts.yml: every alert has a severity (critical or warning) and summary and description annotations, and
  rules_test.yml tests it firing (each severity) and not firing.
- Every recorded series an alert, the dashboard or the adapter rules read (a name with a colon) is recorded
  by recording.yml.
- deploy/grafana/tsdsr-dashboard.json: schemaVersion, a Prometheus `datasource` variable that every panel
  and target uses, and every target's PromQL valid: the expressions are written into a rule file that
  `promtool check rules` parses. The same for adapter-rules.yml's queries, with the adapter's template
  placeholders filled in.
Exits 1 with each problem on stderr. Needs python3-yaml.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

PROMETHEUS = "deploy/prometheus"
DASHBOARD = "deploy/grafana/tsdsr-dashboard.json"
RECORDED = re.compile(r"\b([a-z_]+:[a-z0-9_:]+)\b")
SEVERITIES = {"critical", "warning"}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def rules_of(path):
    return [rule for group in load_yaml(path)["groups"] for rule in group["rules"]]


def check_alerts(problems):
    alerts = [r for r in rules_of(f"{PROMETHEUS}/alerts.yml") if "alert" in r]
    tests = load_yaml(f"{PROMETHEUS}/rules_test.yml")["tests"]
    fired, quiet = set(), set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            name = case["alertname"]
            expected = case.get("exp_alerts") or []
            if expected:
                fired.update((name, a.get("exp_labels", {}).get("severity")) for a in expected)
            else:
                quiet.add(name)
    for alert in alerts:
        name = alert["alert"]
        severity = alert.get("labels", {}).get("severity")
        if severity not in SEVERITIES:
            problems.append(f"alerts.yml: {name}: severity must be one of {sorted(SEVERITIES)}, got {severity!r}")
        annotations = alert.get("annotations", {})
        for key in ("summary", "description"):
            if not annotations.get(key):
                problems.append(f"alerts.yml: {name}: needs a {key} annotation")
        if (name, severity) not in fired:
            problems.append(f"rules_test.yml: no test where {name} ({severity}) fires")
        if name not in quiet:
            problems.append(f"rules_test.yml: no test where {name} stays quiet (exp_alerts: [])")
    return len(alerts)


def recorded_names():
    return {r["record"] for r in rules_of(f"{PROMETHEUS}/recording.yml") if "record" in r}


def check_recorded(problems, where, expr, known):
    for name in RECORDED.findall(expr):
        if name not in known:
            problems.append(f"{where}: reads {name}, which recording.yml does not record")


def dashboard_queries(problems):
    with open(DASHBOARD, encoding="utf-8") as f:
        dashboard = json.load(f)
    if not 36 <= dashboard.get("schemaVersion", 0) <= 41:
        problems.append(f"{DASHBOARD}: schemaVersion {dashboard.get('schemaVersion')} (expected about 39)")
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append(f"{DASHBOARD}: needs a 'datasource' variable of type datasource, query prometheus")
    queries = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"{DASHBOARD}: panel {title!r} must use the ${{datasource}} variable")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{DASHBOARD}: panel {title!r} has no query")
        for target in targets:
            if target.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{DASHBOARD}: panel {title!r}, query {target.get('refId')}: datasource must be "
                                "${datasource}")
            expr = target.get("expr", "")
            if "$" in expr:
                problems.append(f"{DASHBOARD}: panel {title!r}: keep template variables out of PromQL ({expr})")
            queries.append((f"{DASHBOARD}: panel {title!r}", expr))
    return queries


def adapter_queries():
    queries = []
    for rule in load_yaml(f"{PROMETHEUS}/adapter-rules.yml")["externalRules"]:
        series = re.search(r'__name__="([^"]+)"', rule["seriesQuery"]).group(1)
        expr = (rule["metricsQuery"].replace("<<.Series>>", series)
                .replace("<<.LabelMatchers>>", 'namespace="tsdsr"').replace("<<.GroupBy>>", "namespace"))
        queries.append((f"adapter-rules.yml: {rule['name']['as']}", expr))
        queries.append((f"adapter-rules.yml: {rule['name']['as']} (series)", series))
    return queries


def promtool_parses(problems, promtool, queries):
    """Writes the queries as recording rules and lets promtool parse them all."""
    rules = [{"record": f"check:query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}, f)
        path = f.name
    try:
        result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True, check=False)
    finally:
        os.unlink(path)
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip()
        for i, (where, expr) in enumerate(queries):
            if f'"check:query_{i}"' in detail:
                problems.append(f"{where}: invalid PromQL: {expr}")
        problems.append(f"promtool check rules on the dashboard and adapter queries failed:\n{detail}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--promtool", default="promtool")
    options = parser.parse_args()
    problems = []
    alerts = check_alerts(problems)
    known = recorded_names()
    for rule in rules_of(f"{PROMETHEUS}/alerts.yml"):
        check_recorded(problems, f"alerts.yml: {rule['alert']}", rule["expr"], known)
    queries = dashboard_queries(problems)
    adapter = adapter_queries()
    for where, expr in queries + adapter:
        check_recorded(problems, where, expr, known)
    promtool_parses(problems, options.promtool, queries + adapter)
    for problem in problems:
        print(f"check_monitoring: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_monitoring: {alerts} alerts tested firing and quiet; {len(known)} recorded series; "
          f"{len(queries)} dashboard and {len(adapter) // 2} adapter queries parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
