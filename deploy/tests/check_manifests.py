#!/usr/bin/env python3
"""Checks the Kubernetes objects one overlay of deploy/k8s renders to, for what the deployment relies on.

Usage: kubectl kustomize deploy/k8s/overlays/gpu > gpu.yaml
       deploy/tests/check_manifests.py --overlay gpu gpu.yaml

An overlay whose name starts with "gpu" must give each worker one GPU; any other must give none. Checked:
the dispatcher's probes (paths and ports), its stop sequence (terminationGracePeriodSeconds above preStop +
--drain-timeout-ms, the flag set explicitly), the job store on a PersistentVolumeClaim at --data-dir, the API
key and CURVE keys from Secrets, every container's hardening (non-root, read-only root, no privilege
escalation, capabilities dropped, RuntimeDefault seccomp) and resources, the Services and what they select,
the worker PodDisruptionBudget and NetworkPolicies, the worker config (device, model) and, where present, the
HPA. Prints each failure and exits 1 if there is any. Needs python3-yaml (Debian) and Python 3.11+ (tomllib).
"""
import argparse
import sys
import tomllib

import yaml

DISPATCHER = {"app.kubernetes.io/name": "tsdsr-serve", "app.kubernetes.io/component": "dispatcher"}
WORKER = {"app.kubernetes.io/name": "tsdsr-serve", "app.kubernetes.io/component": "worker"}
HTTP_PORT = 8090
WORKER_PORT = 5555
MIN_STARTUP_SECONDS = 120  # the startup probe must allow at least this long before the first liveness kill


class Checker:
    def __init__(self, overlay, objects):
        self.overlay = overlay
        self.objects = objects
        self.failures = []
        self.checks = 0

    def expect(self, condition, message):
        self.checks += 1
        if not condition:
            self.failures.append(message)
        return condition

    def find(self, kind, name=None, prefix=None):
        for obj in self.objects:
            if obj.get("kind") != kind:
                continue
            obj_name = obj.get("metadata", {}).get("name", "")
            if name is not None and obj_name != name:
                continue
            if prefix is not None and not obj_name.startswith(prefix):
                continue
            return obj
        return None

    def all(self, kind):
        return [o for o in self.objects if o.get("kind") == kind]


def selects(selector, labels):
    """True when a matchLabels selector (dict) selects pods with `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def flag(args, name):
    """The value of --name=value or --name value in a container's args; None when absent."""
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


def containers_of(pod_spec):
    return [("init container", c) for c in pod_spec.get("initContainers", [])] + \
           [("container", c) for c in pod_spec.get("containers", [])]


def pod_templates(checker):
    """(description, pod spec) of every workload in the render."""
    for obj in checker.objects:
        kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield f"{kind} {name}", obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind} {name}", obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def check_hardening(c):
    for what, pod in pod_templates(c):
        pod_sc = pod.get("securityContext", {})
        for role, container in containers_of(pod):
            where = f"{what}, {role} {container['name']}"
            sc = container.get("securityContext", {})
            run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            run_as_user = sc.get("runAsUser", pod_sc.get("runAsUser"))
            seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
            c.expect(run_as_non_root is True, f"{where}: runAsNonRoot must be true")
            c.expect(isinstance(run_as_user, int) and run_as_user > 0, f"{where}: runAsUser must be a non-root uid")
            c.expect(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem must be true")
            c.expect(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation must be false")
            c.expect("ALL" in sc.get("capabilities", {}).get("drop", []), f"{where}: capabilities must drop ALL")
            c.expect(not sc.get("capabilities", {}).get("add"), f"{where}: no capability may be added")
            c.expect(sc.get("privileged") is not True, f"{where}: must not be privileged")
            c.expect(seccomp == "RuntimeDefault", f"{where}: seccompProfile must be RuntimeDefault")
            resources = container.get("resources", {})
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            c.expect("cpu" in requests and "memory" in requests, f"{where}: needs cpu and memory requests")
            c.expect("memory" in limits, f"{where}: needs a memory limit")


def volume_named(pod, name):
    return next((v for v in pod.get("volumes", []) if v["name"] == name), {})


def mount_source(pod, container, path):
    """The volume mounted at `path` in `container`, or {}."""
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"].rstrip("/") == path.rstrip("/"):
            return volume_named(pod, mount["name"])
    return {}


def secret_volumes(pod):
    return [v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v]


def preStop_seconds(container):
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = pre_stop.get("exec", {}).get("command", [])
    if len(command) == 2 and command[0].endswith("/sleep"):
        return int(command[1])
    return None


def deployment_of(c, name, role, expected_labels):
    """The Deployment `name`'s spec and pod spec, once its selector and pod labels are checked; None if absent."""
    deployment = c.find("Deployment", name)
    if not c.expect(deployment is not None, f"no Deployment {name}"):
        return None, None
    spec = deployment["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    c.expect(selects(spec["selector"].get("matchLabels"), labels), f"{role}: selector must match its pods")
    c.expect(selects(expected_labels, labels), f"{role} pods must carry the labels {expected_labels}")
    return spec, spec["template"]["spec"]


def check_dispatcher(c):
    spec, pod = deployment_of(c, "tsdsr-dispatcher", "dispatcher", DISPATCHER)
    if spec is None:
        return
    c.expect(spec.get("replicas") == 1, "dispatcher: replicas must be 1 (its data dir is locked)")
    c.expect(spec.get("strategy", {}).get("type") == "Recreate",
             "dispatcher: strategy must be Recreate (the old pod must release the data dir first)")
    container = next((x for x in pod["containers"] if x["name"] == "dispatcher"), None)
    if not c.expect(container is not None, "dispatcher: no container named dispatcher"):
        return
    args = container.get("command", []) + container.get("args", [])
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    c.expect(ports.get("http") == HTTP_PORT and ports.get("workers") == WORKER_PORT,
             f"dispatcher: container ports must be http {HTTP_PORT} and workers {WORKER_PORT}, got {ports}")
    c.expect(flag(args, "--port") in (None, str(HTTP_PORT)), "dispatcher: --port must be 8090")
    c.expect(flag(args, "--host") == "0.0.0.0", "dispatcher: --host must be 0.0.0.0 (reachable from the Service)")
    c.expect(flag(args, "--workers") == "0", "dispatcher: --workers must be 0 (workers are their own Deployment)")
    endpoint = flag(args, "--worker-endpoint") or ""
    c.expect(endpoint.endswith(f":{WORKER_PORT}") and endpoint.startswith("tcp://"),
             f"dispatcher: --worker-endpoint must be tcp://...:{WORKER_PORT}, got {endpoint!r}")

    def probe_ok(kind, path):
        probe = container.get(kind)
        if not c.expect(probe is not None, f"dispatcher: {kind} missing"):
            return None
        get = probe.get("httpGet", {})
        c.expect(get.get("path") == path, f"dispatcher: {kind} must GET {path}, got {get.get('path')!r}")
        c.expect(get.get("port") in ("http", HTTP_PORT), f"dispatcher: {kind} must use the http port")
        return probe

    probe_ok("readinessProbe", "/health/ready")
    probe_ok("livenessProbe", "/health/live")
    startup = probe_ok("startupProbe", "/health/live")
    if startup:
        budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        c.expect(budget >= MIN_STARTUP_SECONDS,
                 f"dispatcher: startupProbe allows {budget} s, needs at least {MIN_STARTUP_SECONDS}")

    drain = flag(args, "--drain-timeout-ms")
    if c.expect(drain is not None, "dispatcher: --drain-timeout-ms must be set explicitly"):
        grace = pod.get("terminationGracePeriodSeconds", 30)
        sleep = preStop_seconds(container)
        c.expect(sleep is not None and 0 < sleep <= 30,
                 "dispatcher: preStop must sleep a few seconds (exec /bin/sleep N or sleep.seconds)")
        needed = (sleep or 0) + int(drain) / 1000
        c.expect(grace > needed, f"dispatcher: terminationGracePeriodSeconds {grace} must exceed preStop "
                                 f"{sleep} s + --drain-timeout-ms {drain} ({needed:g} s)")
        if sleep is not None and container["lifecycle"]["preStop"].get("exec"):
            c.expect(container["lifecycle"]["preStop"]["exec"]["command"][0] == "/bin/sleep",
                     "dispatcher: preStop exec must be /bin/sleep (what the images ship)")

    data_dir = flag(args, "--data-dir")
    if c.expect(data_dir is not None, "dispatcher: --data-dir must be set"):
        volume = mount_source(pod, container, data_dir)
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        c.expect(claim is not None, f"dispatcher: {data_dir} (--data-dir) must be a PersistentVolumeClaim")
        if claim:
            c.expect(c.find("PersistentVolumeClaim", claim) is not None, f"no PersistentVolumeClaim {claim}")
    tmp = mount_source(pod, container, "/tmp")
    c.expect("emptyDir" in tmp, "dispatcher: /tmp must be an emptyDir (read-only root, local worker keys)")

    c.expect(flag(args, "--api-key") is None, "dispatcher: the API key must not be a flag (it shows in ps)")
    env = {e["name"]: e for e in container.get("env", [])}
    api_key = env.get("TSDSR_API_KEY", {}).get("valueFrom", {}).get("secretKeyRef", {})
    c.expect(bool(api_key.get("name")), "dispatcher: TSDSR_API_KEY must come from a Secret (secretKeyRef)")
    curve_dir = flag(args, "--curve-dir")
    if c.expect(curve_dir is not None, "dispatcher: --curve-dir must be set (workers connect over TCP)"):
        authorized = mount_source(pod, container, curve_dir + "/authorized_workers")
        c.expect("secret" in authorized, "dispatcher: authorized_workers/ must be a Secret volume")
        c.expect(len(secret_volumes(pod)) >= 2, "dispatcher: the CURVE keys must come from Secrets")


def check_workers(c):
    spec, pod = deployment_of(c, "tsdsr-worker", "worker", WORKER)
    if spec is None:
        return
    container = next((x for x in pod["containers"] if x["name"] == "worker"), None)
    if not c.expect(container is not None, "workers: no container named worker"):
        return
    args = container.get("command", []) + container.get("args", [])
    connect = flag(args, "--connect") or ""
    host = connect.removeprefix("tcp://").rsplit(":", 1)[0]
    service = c.find("Service", host)
    if c.expect(service is not None, f"workers: --connect {connect!r} must name a Service of the render"):
        c.expect(selects(service["spec"].get("selector"), c.find("Deployment", "tsdsr-dispatcher")["spec"]
                         ["template"]["metadata"]["labels"]), f"Service {host} must select the dispatcher")
        c.expect(any(p["port"] == WORKER_PORT for p in service["spec"]["ports"]),
                 f"Service {host} must expose {WORKER_PORT}")
        c.expect(service["spec"].get("publishNotReadyAddresses") is True,
                 f"Service {host} must publish the dispatcher before it is ready (it is ready only once a "
                 f"worker registered through this Service)")
    c.expect(connect.endswith(f":{WORKER_PORT}"), f"workers: --connect must use port {WORKER_PORT}")
    curve_dir = flag(args, "--curve-dir")
    c.expect(curve_dir is not None, "workers: --curve-dir must be set (CURVE over TCP)")
    c.expect(len(secret_volumes(pod)) >= 1, "workers: the CURVE keys must come from a Secret")
    c.expect("emptyDir" in mount_source(pod, container, "/tmp"), "workers: /tmp must be an emptyDir")

    limits = container.get("resources", {}).get("limits", {})
    requests = container.get("resources", {}).get("requests", {})
    gpus = limits.get("nvidia.com/gpu")
    gpu_overlay = c.overlay.startswith("gpu")
    if gpu_overlay:
        c.expect(str(gpus) == "1", f"workers ({c.overlay}): limits must have nvidia.com/gpu: 1, got {gpus!r}")
        c.expect(str(requests.get("nvidia.com/gpu", gpus)) == "1", "workers: a GPU request must be 1 too")
        c.expect(bool(pod.get("nodeSelector") or pod.get("affinity")) and bool(pod.get("tolerations")),
                 "workers (gpu): a node selector and a toleration for GPU nodes are expected")
    else:
        everywhere = [x.get("resources", {}) for _, x in containers_of(pod)]
        c.expect(all("nvidia.com/gpu" not in r.get("limits", {}) and "nvidia.com/gpu" not in r.get("requests", {})
                     for r in everywhere), f"workers ({c.overlay}): no container may ask for a GPU")

    config_path = flag(args, "--config")
    if c.expect(config_path is not None, "workers: --config must name the worker.toml of the ConfigMap"):
        directory, file = config_path.rsplit("/", 1)
        volume = mount_source(pod, container, directory)
        name = volume.get("configMap", {}).get("name")
        config_map = c.find("ConfigMap", name) if name else None
        if c.expect(config_map is not None and file in config_map.get("data", {}),
                    f"workers: {config_path} must come from a ConfigMap of the render"):
            config = tomllib.loads(config_map["data"][file])
            for key in ("connect", "curve-dir", "id"):
                c.expect(key not in config, f"workers: worker.toml must not set {key} (the Deployment's flags do)")
            device, model = config.get("device", ""), config.get("model", "")
            if gpu_overlay:
                c.expect(device == "cuda:0", f"workers (gpu): device must be cuda:0 (the pod's one GPU), got "
                                             f"{device!r}")
            else:
                c.expect(device == "cpu", f"workers ({c.overlay}): device must be cpu, got {device!r}")
                c.expect(model.startswith("builtin:"), f"workers ({c.overlay}): model must be builtin:..., got "
                                                       f"{model!r}")


def check_services(c):
    http = c.find("Service", "tsdsr-dispatcher")
    if c.expect(http is not None, "no Service tsdsr-dispatcher"):
        c.expect(selects(http["spec"].get("selector"), DISPATCHER),
                 "Service tsdsr-dispatcher must select the dispatcher")
        c.expect(any(p["port"] == HTTP_PORT for p in http["spec"]["ports"]),
                 f"Service tsdsr-dispatcher: port {HTTP_PORT}")
        c.expect(http["spec"].get("publishNotReadyAddresses") is not True,
                 "Service tsdsr-dispatcher must send HTTP only to a ready (not draining) dispatcher")
    c.expect(c.find("PersistentVolumeClaim", "tsdsr-data") is not None, "no PersistentVolumeClaim tsdsr-data")


def check_disruption_and_network(c):
    pdbs = [p for p in c.all("PodDisruptionBudget")
            if selects(p["spec"].get("selector", {}).get("matchLabels"), WORKER)]
    if c.expect(len(pdbs) == 1, "one PodDisruptionBudget must select the worker pods"):
        pdb = pdbs[0]["spec"]
        c.expect(not selects(pdb["selector"]["matchLabels"], DISPATCHER),
                 "the worker PDB must not select the dispatcher")
        c.expect("maxUnavailable" in pdb or "minAvailable" in pdb,
                 "the worker PDB needs maxUnavailable or minAvailable")

    policies = [p for p in c.all("NetworkPolicy")
                if selects(p["spec"].get("podSelector", {}).get("matchLabels"), DISPATCHER)]
    if not c.expect(len(policies) == 1, "one NetworkPolicy must select the dispatcher pods"):
        return
    spec = policies[0]["spec"]
    c.expect("Ingress" in spec.get("policyTypes", []), "dispatcher NetworkPolicy: policyTypes must include Ingress")
    open_ports, worker_only = set(), set()
    for rule in spec.get("ingress", []):
        ports = {p.get("port") for p in rule.get("ports", [])} or {"any"}
        sources = rule.get("from")
        if not sources:
            open_ports |= ports
            continue
        for source in sources:
            only_workers = set(source) == {"podSelector"} and \
                selects(source["podSelector"].get("matchLabels"), WORKER) and \
                not selects(source["podSelector"].get("matchLabels"), DISPATCHER)
            (worker_only if only_workers else open_ports).update(ports)
    c.expect(HTTP_PORT in open_ports, f"dispatcher NetworkPolicy: {HTTP_PORT} must stay reachable from anywhere")
    c.expect(WORKER_PORT in worker_only, f"dispatcher NetworkPolicy: {WORKER_PORT} must be allowed from worker pods")
    c.expect(WORKER_PORT not in open_ports and "any" not in open_ports,
             f"dispatcher NetworkPolicy: {WORKER_PORT} must be reachable from worker pods only")


def check_autoscaling(c):
    hpas = c.all("HorizontalPodAutoscaler")
    worker = c.find("Deployment", "tsdsr-worker")
    if not hpas:
        c.expect(not c.overlay.startswith("gpu"), f"{c.overlay}: the gpu overlays autoscale their workers (HPA)")
        return
    hpa = hpas[0]
    c.expect(hpa["apiVersion"] == "autoscaling/v2", "HPA: apiVersion must be autoscaling/v2")
    target = hpa["spec"]["scaleTargetRef"]
    c.expect(target.get("kind") == "Deployment" and target.get("name") == "tsdsr-worker", "HPA must scale tsdsr-worker")
    metrics = hpa["spec"].get("metrics", [])
    external = [m for m in metrics if m.get("type") == "External"]
    c.expect(len(external) == len(metrics) and external, "HPA: External metrics only (they exist at zero workers)")
    c.expect(any(m["external"]["metric"]["name"] == "tsdsr_backlog" for m in external), "HPA: needs tsdsr_backlog")
    c.expect(all(m["external"]["target"]["type"] == "AverageValue" for m in external),
             "HPA: AverageValue targets (defined whatever the number of ready workers)")
    c.expect(worker is None or "replicas" not in worker["spec"],
             "the autoscaled worker Deployment must not set replicas (a re-apply would reset the HPA's count)")


def check_images(c):
    expected_tag = "cuda" if c.overlay.startswith("gpu") else "cpu"
    for what, pod in pod_templates(c):
        for role, container in containers_of(pod):
            image = container["image"]
            if image.split(":")[0].endswith("tsdsr-serve"):
                c.expect(image.endswith(":" + expected_tag),
                         f"{what}, {role} {container['name']}: image {image} should be tagged {expected_tag}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--overlay", required=True, help="the overlay's name (gpu* expects GPU workers)")
    parser.add_argument("rendered", help="the output of kubectl kustomize for that overlay")
    options = parser.parse_args()
    with open(options.rendered, encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    checker = Checker(options.overlay, objects)
    for check in (check_hardening, check_dispatcher, check_workers, check_services, check_disruption_and_network,
                  check_autoscaling, check_images):
        check(checker)
    for failure in checker.failures:
        print(f"check_manifests: {options.overlay}: {failure}", file=sys.stderr)
    if checker.failures:
        print(f"check_manifests: {options.overlay}: {len(checker.failures)} of {checker.checks} checks failed",
              file=sys.stderr)
        return 1
    print(f"check_manifests: {options.overlay}: {checker.checks} checks passed ({len(objects)} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
