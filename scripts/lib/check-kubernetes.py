#!/usr/bin/env python3
"""Render and validate OneSeal's Kubernetes manifests offline (run by scripts/check-kubernetes).

For each overlay in deploy/kubernetes/overlays/:
  1. render it with `kubectl kustomize`, in a copy of deploy/kubernetes whose secrets/keys/ hold
     placeholder files (the operator's real keys are never read);
  2. validate every core-kind object with kubernetes-validate (bundled JSON schemas, --strict);
  3. validate the CloudNativePG objects against our own JSON Schemas (deploy/kubernetes/schemas/);
  4. run the project's checks (replicas, probes, PDBs, limits, non-root; NetworkPolicy peers exist;
     every call in ONESEAL_PEERS allowed by the policies and every allowance used by a call; every
     Secret and ConfigMap a pod uses is generated; every database has its backups).
Then (unless --no-mutations) it breaks the manifests on purpose, one way at a time, and fails if
any broken copy passes: a check that cannot fail proves nothing.
"""
import argparse
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KDIR = os.path.join(ROOT, "deploy", "kubernetes")

# Namespaces outside the render that our policies may name, with the pods we expect there.
EXTERNAL_NAMESPACES = {
    "kube-system": [{"k8s-app": "kube-dns"}],
    "cnpg-system": [{"app.kubernetes.io/name": "cloudnative-pg"}],
    "monitoring": [{}],
}
# Secrets the CloudNativePG operator makes for a Cluster named C (C-ca holds ca.crt).
CNPG_SECRETS = {"-ca": ["ca.crt", "ca.key"], "-server": ["tls.crt", "tls.key"], "-replication": ["tls.crt", "tls.key"]}
CNPG_PORTS = {"postgresql": 5432, "status": 8000, "metrics": 9187}


class Failures(list):
    def add(self, where, message):
        self.append(f"{where}: {message}")


# ------------------------------------------------------------------------------------------ render

def copy_tree_with_placeholders(destination):
    """deploy/kubernetes without any keys/ folder, then a placeholder for every generator file."""
    shutil.copytree(KDIR, destination, ignore=shutil.ignore_patterns("keys"))
    for folder, _, files in os.walk(destination):
        if "kustomization.yaml" not in files:
            continue
        with open(os.path.join(folder, "kustomization.yaml")) as f:
            k = yaml.safe_load(f) or {}
        for gen in k.get("secretGenerator", []) or []:
            for entry in gen.get("files", []) or []:
                path = entry.split("=", 1)[-1]
                if path.startswith("keys/"):
                    full = os.path.join(folder, path)
                    os.makedirs(os.path.dirname(full), exist_ok=True)
                    with open(full, "w") as out:
                        out.write(f"placeholder for {path} (scripts/check-kubernetes)\n")


def render(kubectl, tree, overlay, failures):
    proc = subprocess.run([kubectl, "kustomize", os.path.join(tree, "overlays", overlay)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        failures.add(f"overlays/{overlay}", f"kubectl kustomize failed: {proc.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


# -------------------------------------------------------------------------------------- validation

def load_kubernetes_validate():
    import kubernetes_validate.utils as kv
    # Each validate() reads the schema files again; they do not change during a run.
    kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)
    return kv


def validate_objects(docs, overlay, k8s_version, schemas, kv, failures):
    import jsonschema
    counts = {"core": 0, "cnpg": 0}
    for d in docs:
        where = f"overlays/{overlay} {d.get('kind')}/{d.get('metadata', {}).get('name')}"
        if str(d.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
            schema = schemas.get(d.get("kind"))
            if schema is None:
                failures.add(where, "no JSON Schema in deploy/kubernetes/schemas/ for this CloudNativePG kind")
                continue
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(d), key=lambda e: list(e.path))
            for e in errors:
                failures.add(where, f"CloudNativePG schema: at {'/'.join(str(p) for p in e.path) or '(top)'}: {e.message}")
            counts["cnpg"] += 1
            continue
        try:
            kv.validate(d, k8s_version, strict=True)
        except kv.ValidationError as e:
            failures.add(where, f"kubernetes-validate (Kubernetes {k8s_version}, strict): at "
                                f"{'/'.join(str(p) for p in e.path) or '(top)'}: {e.message}")
        except kv.SchemaNotFoundError as e:
            failures.add(where, f"kubernetes-validate: {e.message}")
        counts["core"] += 1
    return counts


# ------------------------------------------------------------------------------- label selectors

def selector_matches(selector, labels):
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Pod:
    """A kind of pod the render makes: a Deployment's template, or a CloudNativePG instance."""
    def __init__(self, namespace, name, labels, ports, deployment=None):
        self.namespace, self.name, self.labels, self.ports, self.deployment = namespace, name, labels, ports, deployment

    def __repr__(self):
        return f"{self.namespace}/{self.name}"


def pods_of(docs, namespace):
    pods = []
    for d in docs:
        if d["kind"] == "Deployment":
            t = d["spec"]["template"]
            ports = {}
            for c in t["spec"]["containers"]:
                for p in c.get("ports", []):
                    ports[p.get("name", str(p["containerPort"]))] = p["containerPort"]
            pods.append(Pod(namespace, d["metadata"]["name"], t["metadata"].get("labels", {}), ports, d))
        elif d["kind"] == "Cluster":
            labels = {"cnpg.io/cluster": d["metadata"]["name"], "cnpg.io/podRole": "instance"}
            pods.append(Pod(namespace, d["metadata"]["name"] + "-N", labels, dict(CNPG_PORTS)))
    return pods


# ------------------------------------------------------------------------------- project checks

def index(docs):
    by = {}
    for d in docs:
        by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    return by


def strip_hash(name, names):
    """The generated name for `name` (kustomize may add -<hash>)."""
    for n in names:
        if n == name or re.fullmatch(re.escape(name) + r"-[a-z0-9]{10}", n):
            return n
    return None


def check_deployments(docs, where, failures):
    by = index(docs)
    pdbs = list(by.get("PodDisruptionBudget", {}).values())
    services = list(by.get("Service", {}).values())
    images = set()
    for name, d in by.get("Deployment", {}).items():
        w = f"{where} Deployment/{name}"
        spec = d["spec"]
        if (spec.get("replicas") or 1) < 2:
            failures.add(w, f"replicas is {spec.get('replicas', 1)}; every service runs at least 2")
        t = spec["template"]
        labels = t["metadata"].get("labels", {})
        ps = t["spec"].get("securityContext", {})
        if ps.get("runAsNonRoot") is not True:
            failures.add(w, "pod securityContext.runAsNonRoot is not true")
        if ps.get("runAsUser") in (None, 0):
            failures.add(w, "pod securityContext.runAsUser must name a non-root uid (10001)")
        if (ps.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            failures.add(w, "pod securityContext.seccompProfile.type is not RuntimeDefault")
        for c in t["spec"]["containers"]:
            cw = f"{w} container {c['name']}"
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    failures.add(cw, f"no {probe}")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        failures.add(cw, f"no resources.{kind}.{r}")
            cs = c.get("securityContext", {})
            if cs.get("readOnlyRootFilesystem") is not True:
                failures.add(cw, "securityContext.readOnlyRootFilesystem is not true")
            if cs.get("allowPrivilegeEscalation") is not False:
                failures.add(cw, "securityContext.allowPrivilegeEscalation is not false")
            if "ALL" not in ((cs.get("capabilities") or {}).get("drop") or []):
                failures.add(cw, "securityContext.capabilities.drop does not include ALL")
            if cs.get("runAsUser") == 0:
                failures.add(cw, "runs as root")
            images.add(c["image"])
            if not re.fullmatch(r"(.+/)?oneseal:[A-Za-z0-9_.-]+", c["image"]):
                failures.add(cw, f"image {c['image']!r} is not oneseal:<tag> (the overlay's images: sets it)")
        if not any(selector_matches(p["spec"].get("selector"), labels) for p in pdbs):
            failures.add(w, "no PodDisruptionBudget selects its pods")
        if not any(s["spec"].get("selector") and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())
                   for s in services):
            failures.add(w, "no Service selects its pods")
    if len(images) > 1:
        failures.add(where, f"the node's Deployments run different images: {sorted(images)}")


def check_references(docs, where, failures):
    """Every Secret / ConfigMap (and key) a pod or a Cluster uses is in the render."""
    by = index(docs)
    secrets = by.get("Secret", {})
    configmaps = by.get("ConfigMap", {})
    clusters = by.get("Cluster", {})

    def secret_keys(name):
        if name in secrets:
            s = secrets[name]
            return set((s.get("data") or {}).keys()) | set((s.get("stringData") or {}).keys())
        for c in clusters:
            for suffix, keys in CNPG_SECRETS.items():
                if name == c + suffix:
                    return set(keys)
        return None

    def need_secret(w, name, keys=()):
        have = secret_keys(name)
        if have is None:
            failures.add(w, f"uses Secret {name!r}, which is neither generated (secretGenerator) "
                            "nor made by CloudNativePG for a Cluster of this node")
            return
        for k in keys:
            if k not in have:
                failures.add(w, f"uses key {k!r} of Secret {name!r}, which has only {sorted(have)}")

    def need_configmap(w, name, keys=()):
        if name not in configmaps:
            failures.add(w, f"uses ConfigMap {name!r}, which is not in the render")
            return
        have = set((configmaps[name].get("data") or {}).keys())
        for k in keys:
            if k not in have:
                failures.add(w, f"uses key {k!r} of ConfigMap {name!r}, which has only {sorted(have)}")

    for name, d in by.get("Deployment", {}).items():
        w = f"{where} Deployment/{name}"
        pod = d["spec"]["template"]["spec"]
        for v in pod.get("volumes", []):
            if "secret" in v:
                need_secret(w, v["secret"]["secretName"], [i["key"] for i in v["secret"].get("items", [])])
            if "configMap" in v:
                need_configmap(w, v["configMap"]["name"], [i["key"] for i in v["configMap"].get("items", [])])
            for src in (v.get("projected") or {}).get("sources", []):
                if "secret" in src:
                    need_secret(w, src["secret"]["name"], [i["key"] for i in src["secret"].get("items", [])])
                if "configMap" in src:
                    need_configmap(w, src["configMap"]["name"], [i["key"] for i in src["configMap"].get("items", [])])
        for c in pod["containers"]:
            for e in c.get("envFrom", []):
                if "secretRef" in e:
                    need_secret(w, e["secretRef"]["name"])
                if "configMapRef" in e:
                    need_configmap(w, e["configMapRef"]["name"])
            for e in c.get("env", []):
                ref = e.get("valueFrom") or {}
                if "secretKeyRef" in ref:
                    need_secret(w, ref["secretKeyRef"]["name"], [ref["secretKeyRef"]["key"]])
                if "configMapKeyRef" in ref:
                    need_configmap(w, ref["configMapKeyRef"]["name"], [ref["configMapKeyRef"]["key"]])

    for name, c in clusters.items():
        w = f"{where} Cluster/{name}"
        spec = c["spec"]
        init = (spec.get("bootstrap") or {}).get("initdb") or {}
        if "secret" in init:
            need_secret(w, init["secret"]["name"], ["username", "password"])
            s = secrets.get(init["secret"]["name"])
            if s is not None and s.get("type") != "kubernetes.io/basic-auth":
                failures.add(w, f"initdb secret {s['metadata']['name']!r} is not of type kubernetes.io/basic-auth")
        creds = (((spec.get("backup") or {}).get("barmanObjectStore") or {}).get("s3Credentials") or {})
        for ref in creds.values():
            if isinstance(ref, dict):
                need_secret(w, ref["name"], [ref["key"]])


def check_databases(docs, namespace, where, failures):
    by = index(docs)
    clusters = by.get("Cluster", {})
    scheduled = by.get("ScheduledBackup", {})
    node = namespace.rsplit("-", 1)[-1]
    for name, c in clusters.items():
        w = f"{where} Cluster/{name}"
        spec = c["spec"]
        if spec.get("instances", 0) < 3:
            failures.add(w, f"instances is {spec.get('instances')}; a service database runs 3")
        sync = (spec.get("postgresql") or {}).get("synchronous")
        if not sync or sync.get("number", 0) < 1:
            failures.add(w, "no synchronous replication (postgresql.synchronous with number >= 1)")
        if "minSyncReplicas" in spec or "maxSyncReplicas" in spec:
            failures.add(w, "minSyncReplicas/maxSyncReplicas: OneSeal uses the postgresql.synchronous stanza only")
        store = (spec.get("backup") or {}).get("barmanObjectStore") or {}
        path = store.get("destinationPath", "")
        if not path:
            failures.add(w, "no backup.barmanObjectStore.destinationPath (base backups and WAL archive)")
        elif not path.rstrip("/").endswith("/" + node):
            failures.add(w, f"backups go to {path!r}, not to this node's prefix (…/{node}): set it in the overlay")
        if not any(s["spec"]["cluster"]["name"] == name for s in scheduled.values()):
            failures.add(w, "no ScheduledBackup")
    for name, s in scheduled.items():
        if s["spec"]["cluster"]["name"] not in clusters:
            failures.add(f"{where} ScheduledBackup/{name}", f"names Cluster {s['spec']['cluster']['name']!r}, not in the render")

    # Each service's conninfo names its own Cluster's primary, database and owner.
    cm_node = strip_hash("oneseal-node", by.get("ConfigMap", {}))
    node_env = (by["ConfigMap"][cm_node].get("data") or {}) if cm_node else {}
    if node_env.get("ONESEAL_NODE") != node:
        failures.add(where, f"oneseal-node says ONESEAL_NODE={node_env.get('ONESEAL_NODE')!r} in namespace {namespace}")
    for name, d in by.get("Deployment", {}).items():
        for c in d["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            url = env.get("ONESEAL_DATABASE_URL")
            if not url:
                continue
            w = f"{where} Deployment/{name}"
            fields = dict(kv.split("=", 1) for kv in url.split())
            fields = {k: v.replace("$(ONESEAL_NODE)", node_env.get("ONESEAL_NODE", "?")) for k, v in fields.items()}
            cluster = clusters.get(fields.get("host", "").removesuffix("-rw"))
            if cluster is None or not fields.get("host", "").endswith("-rw"):
                failures.add(w, f"ONESEAL_DATABASE_URL host {fields.get('host')!r} is not the -rw Service of a Cluster of this node")
                continue
            if cluster["metadata"]["name"] != f"{name}-db":
                failures.add(w, f"connects to {cluster['metadata']['name']}, not to its own database {name}-db")
            init = cluster["spec"].get("bootstrap", {}).get("initdb", {})
            if fields.get("dbname") != init.get("database"):
                failures.add(w, f"dbname {fields.get('dbname')!r} is not the Cluster's database {init.get('database')!r}")
            if fields.get("user") != init.get("owner"):
                failures.add(w, f"user {fields.get('user')!r} is not the Cluster's owner {init.get('owner')!r}")


# --------------------------------------------------------------------------- network policies

def namespace_labels(ns_doc):
    labels = dict(ns_doc["metadata"].get("labels") or {})
    labels["kubernetes.io/metadata.name"] = ns_doc["metadata"]["name"]
    return labels


def port_matches(rule_ports, pod, number):
    if not rule_ports:
        return True
    for p in rule_ports:
        port = p.get("port")
        if port is None or port == number or (isinstance(port, str) and pod.ports.get(port) == number):
            return True
    return False


def peer_matches(peer, own_namespace, pod, namespaces):
    if "ipBlock" in peer:
        return False  # addresses outside the cluster, never a pod of ours
    if "namespaceSelector" in peer:
        ns = namespaces.get(pod.namespace)
        if ns is None or not selector_matches(peer["namespaceSelector"], ns):
            return False
    elif pod.namespace != own_namespace:
        return False
    return selector_matches(peer.get("podSelector", {}), pod.labels)


def allowed(policies, namespaces, src, dst, number):
    """Whether the policies of src's namespace let it out and dst's let it in, to dst:number."""
    def direction(pod, kind, other):
        selecting = [p for p in policies if p["metadata"]["namespace"] == pod.namespace
                     and selector_matches(p["spec"]["podSelector"], pod.labels)
                     and kind in p["spec"].get("policyTypes", ["Ingress"])]
        if not selecting:
            return True
        key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
        for p in selecting:
            for rule in p["spec"].get(key) or []:
                if not port_matches(rule.get("ports"), dst, number):
                    continue
                peers = rule.get(peers_key)
                if peers is None or any(peer_matches(x, pod.namespace, other, namespaces) for x in peers):
                    return True
        return False
    return direction(src, "Egress", dst) and direction(dst, "Ingress", src)


def check_network_policies(renders, failures):
    """renders: {overlay: (namespace, docs)} — all nodes together, for the cross-node calls."""
    namespaces, pods, policies, services = {}, [], [], {}
    for overlay, (ns, docs) in renders.items():
        for d in docs:
            if d["kind"] == "Namespace":
                namespaces[d["metadata"]["name"]] = namespace_labels(d)
            if d["kind"] == "NetworkPolicy":
                p = copy.deepcopy(d)
                p["metadata"]["namespace"] = ns
                policies.append(p)
            if d["kind"] == "Service":
                services[(ns, d["metadata"]["name"])] = d
        pods += pods_of(docs, ns)
    for ext in EXTERNAL_NAMESPACES:
        namespaces.setdefault(ext, {"kubernetes.io/metadata.name": ext})
    external_pods = [Pod(ns, "(outside the render)", labels, {}) for ns, ls in EXTERNAL_NAMESPACES.items() for labels in ls]

    for overlay, (ns, docs) in renders.items():
        where = f"overlays/{overlay}"
        own = [p for p in policies if p["metadata"]["namespace"] == ns]
        if not any(p["spec"]["podSelector"] == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                   and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in own):
            failures.add(where, "no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
        for p in own:
            w = f"{where} NetworkPolicy/{p['metadata']['name']}"
            selected = [x for x in pods if x.namespace == ns and selector_matches(p["spec"]["podSelector"], x.labels)]
            if not selected:
                failures.add(w, "its podSelector selects no pod of the node")
            for key, peers_key in (("ingress", "from"), ("egress", "to")):
                for rule in p["spec"].get(key) or []:
                    for peer in rule.get(peers_key) or []:
                        if "ipBlock" in peer:
                            continue
                        if "namespaceSelector" in peer:
                            matched_ns = [n for n, labels in namespaces.items() if selector_matches(peer["namespaceSelector"], labels)]
                            if not matched_ns:
                                failures.add(w, f"{key} peer namespaceSelector {peer['namespaceSelector']} names no namespace "
                                                f"(nodes rendered: {sorted(n for n in namespaces if n not in EXTERNAL_NAMESPACES)})")
                                continue
                        else:
                            matched_ns = [ns]
                        candidates = [x for x in pods + external_pods if x.namespace in matched_ns]
                        if not any(selector_matches(peer.get("podSelector", {}), x.labels) for x in candidates):
                            failures.add(w, f"{key} peer {peer} names no pod that exists")
                    # Named ports: ingress names the selected pods' ports, egress the peers'.
                    for port in rule.get("ports") or []:
                        if isinstance(port.get("port"), str) and key == "ingress":
                            for x in selected:
                                if port["port"] not in x.ports:
                                    failures.add(w, f"ingress port {port['port']!r} is not a port of {x}")

    # The calls the services make (ONESEAL_PEERS) against what the policies allow.
    by_service = {}  # (namespace, service short name) -> pod
    for x in pods:
        comp = x.labels.get("app.kubernetes.io/component")
        if comp and x.deployment is not None:
            by_service[(x.namespace, comp)] = x
    calls = set()  # (src pod, dst pod, port)
    for overlay, (ns, docs) in renders.items():
        by = index(docs)
        cm = by.get("ConfigMap", {})
        node_cm = cm.get(strip_hash("oneseal-node", cm) or "", {}).get("data") or {}
        for x in [p for p in pods if p.namespace == ns and p.deployment is not None]:
            w = f"overlays/{overlay} Deployment/{x.name}"
            for c in x.deployment["spec"]["template"]["spec"]["containers"]:
                peers_value = None
                for e in c.get("env", []):
                    if e["name"] != "ONESEAL_PEERS":
                        continue
                    if "value" in e:
                        peers_value = e["value"].replace("$(ONESEAL_NODE)", node_cm.get("ONESEAL_NODE", "?"))
                    else:
                        ref = e["valueFrom"]["configMapKeyRef"]
                        peers_value = (cm.get(ref["name"], {}).get("data") or {}).get(ref["key"], "")
                for entry in filter(None, (peers_value or "").split(",")):
                    m = re.fullmatch(r"([a-z]+)@(\d{6})=([a-z0-9.-]+):(\d+)", entry.strip())
                    if not m:
                        failures.add(w, f"ONESEAL_PEERS entry {entry!r} is not service@node=host:port")
                        continue
                    svc, node, host, port = m.group(1), m.group(2), m.group(3), int(m.group(4))
                    parts = host.split(".")
                    target_ns = ns if len(parts) == 1 else parts[1]
                    if target_ns != f"oneseal-{node}":
                        failures.add(w, f"peer {svc}@{node} points into namespace {target_ns}, not oneseal-{node}")
                    service = services.get((target_ns, parts[0]))
                    if service is None or port not in [p["port"] for p in service["spec"]["ports"]]:
                        failures.add(w, f"peer {svc}@{node}: no Service {parts[0]} with port {port} in {target_ns}")
                        continue
                    dst = by_service.get((target_ns, svc))
                    if dst is None or not selector_matches({"matchLabels": service["spec"]["selector"]}, dst.labels):
                        failures.add(w, f"peer {svc}@{node}: Service {target_ns}/{parts[0]} does not lead to {svc}")
                        continue
                    target_port = next(p["targetPort"] for p in service["spec"]["ports"] if p["port"] == port)
                    number = dst.ports.get(target_port, target_port)
                    calls.add((x.namespace, x.name, dst.namespace, dst.name))
                    if not allowed(policies, namespaces, x, dst, number):
                        failures.add(w, f"calls {svc}@{node} ({host}:{port}, ONESEAL_PEERS) but the NetworkPolicies "
                                        "do not allow it")
    # …and no allowance without a call: between OneSeal pods, only the peers' connections pass.
    oneseal = [x for x in pods if x.deployment is not None]
    for src in oneseal:
        for dst in oneseal:
            if src is dst:
                continue
            for pname, number in dst.ports.items():
                if pname in ("oneseal", "grpc", "http", "metrics") and allowed(policies, namespaces, src, dst, number):
                    if pname == "oneseal" and (src.namespace, src.name, dst.namespace, dst.name) in calls:
                        continue
                    failures.add(f"{src}", f"may connect to {dst}:{number} ({pname}) but makes no such call "
                                           "(not in its ONESEAL_PEERS): the NetworkPolicies allow too much")
    # Databases: each reached by its own service only.
    for src in oneseal:
        for db in [x for x in pods if x.deployment is None]:
            ok = allowed(policies, namespaces, src, db, 5432)
            own = src.namespace == db.namespace and db.labels["cnpg.io/cluster"] == f"{src.name}-db"
            if ok and not own:
                failures.add(f"{src}", f"may reach database {db.namespace}/{db.labels['cnpg.io/cluster']}, not its own")
            if own and not ok:
                failures.add(f"{src}", "may not reach its own database (port 5432)")


# ------------------------------------------------------------------------------------------- run

def check_tree(tree, kubectl, k8s_version, kv, schemas, quiet=False):
    failures = Failures()
    calendar = os.path.join(ROOT, "deploy", "calendar.txt")
    copy_of = os.path.join(tree, "base", "calendar.txt")
    with open(calendar, "rb") as a, open(copy_of, "rb") as b:
        if a.read() != b.read():
            failures.add("base/calendar.txt", "differs from deploy/calendar.txt: copy it (`cp deploy/calendar.txt deploy/kubernetes/base/`)")
    renders = {}
    overlays = sorted(os.listdir(os.path.join(tree, "overlays")))
    for overlay in overlays:
        docs = render(kubectl, tree, overlay, failures)
        if not docs:
            continue
        ns_docs = [d for d in docs if d["kind"] == "Namespace"]
        if len(ns_docs) != 1:
            failures.add(f"overlays/{overlay}", "renders no Namespace (or several)")
            continue
        ns = ns_docs[0]["metadata"]["name"]
        for d in docs:
            if d["kind"] != "Namespace" and d["metadata"].get("namespace") != ns:
                failures.add(f"overlays/{overlay} {d['kind']}/{d['metadata']['name']}", f"not in namespace {ns}")
        counts = validate_objects(docs, overlay, k8s_version, schemas, kv, failures)
        where = f"overlays/{overlay}"
        check_deployments(docs, where, failures)
        check_references(docs, where, failures)
        check_databases(docs, ns, where, failures)
        renders[overlay] = (ns, docs)
        if not quiet:
            kinds = {}
            for d in docs:
                kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
            print(f"  {overlay} (namespace {ns}): {len(docs)} objects — "
                  + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                  + f"; {counts['core']} checked by kubernetes-validate, {counts['cnpg']} by our CloudNativePG schemas")
    if renders:
        check_network_policies(renders, failures)
    return failures


# Each breaks one thing in a copy of deploy/kubernetes; the check must then fail, saying so.
MUTATIONS = [
    ("a misspelt CloudNativePG field (synchronous → synchronus)", "base/intake.yaml",
     "    synchronous:\n", "    synchronus:\n", "CloudNativePG schema"),
    ("a misspelt core field (readOnlyRootFilesystem → readOnlyRootFileSystem)", "base/web.yaml",
     "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", "kubernetes-validate"),
    ("approval's readiness probe removed", "base/approval.yaml",
     re.compile(r"          readinessProbe:\n(?:            .*\n)+"), "", "no readinessProbe"),
    ("one replica of supervision", "base/supervision.yaml", "  replicas: 2\n", "  replicas: 1\n", "replicas is 1"),
    ("a NetworkPolicy peer that does not exist (oneseal-evaluaton)", "overlays/county-371302/cross-node.yaml",
     "app.kubernetes.io/name: oneseal-evaluation}", "app.kubernetes.io/name: oneseal-evaluaton}", "names no pod"),
    ("a mounted Secret no longer generated (oneseal-data-key)", "overlays/city-371300/secrets/kustomization.yaml",
     "  - name: oneseal-data-key\n", "  - name: oneseal-datakey\n", "uses Secret 'oneseal-data-key'"),
    ("a call the policies do not allow (county intake → city approval dropped)", "overlays/county-371302/cross-node.yaml",
     re.compile(r"    # ApplicationForwarded.*\n(?:    .*\n)*?      ports: \[\{port: 7102, protocol: TCP\}\]\n"), "",
     "do not allow it"),
    ("allowances without calls (a policy letting every pod of the node reach every other)", "base/network-policies.yaml",
     "---\n# Every pod resolves", "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: node-internal}\n"
     "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress: [{from: [{podSelector: {}}]}]\n"
     "  egress: [{to: [{podSelector: {}}]}]\n---\n# Every pod resolves", "allow too much"),
    ("a database without its node's backup prefix", "overlays/city-371300/patches/databases.yaml",
     "destinationPath: s3://oneseal-backups/371300\n", "destinationPath: s3://oneseal-backups/371302\n", "not to this node's prefix"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--kubernetes-version", default="1.32.0")
    ap.add_argument("--no-mutations", action="store_true")
    args = ap.parse_args()

    kv = load_kubernetes_validate()
    have = [kv.major_minor(v) for v in kv.all_versions()]
    if kv.major_minor(args.kubernetes_version) not in have:
        from kubernetes_validate.version import __version__
        print(f"check-kubernetes: kubernetes-validate {__version__} has schemas for Kubernetes {have[0]}–{have[-1]}, "
              f"not {args.kubernetes_version}: give a version in that range, or pip install 'kubernetes-validate==1.37.0'", file=sys.stderr)
        return 1
    schemas = {}
    for kind, file in (("Cluster", "cnpg-cluster-v1.json"), ("ScheduledBackup", "cnpg-scheduledbackup-v1.json")):
        with open(os.path.join(KDIR, "schemas", file)) as f:
            schemas[kind] = json.load(f)

    with tempfile.TemporaryDirectory(prefix="oneseal-k8s-") as tmp:
        tree = os.path.join(tmp, "kubernetes")
        copy_tree_with_placeholders(tree)
        print(f"check-kubernetes: rendering with {args.kubectl} kustomize; Kubernetes {args.kubernetes_version} schemas (strict)")
        failures = check_tree(tree, args.kubectl, args.kubernetes_version, kv, schemas)
        if failures:
            print(f"check-kubernetes: FAILED, {len(failures)} problem(s):", file=sys.stderr)
            for f in failures:
                print(f"  - {f}", file=sys.stderr)
            return 1
        print("check-kubernetes: manifests render and validate; project checks pass")
        if args.no_mutations:
            return 0

        print("check-kubernetes: mutations (each must make the check fail):")
        survivors = []
        for i, (what, file, old, new, expect) in enumerate(MUTATIONS):
            mtree = os.path.join(tmp, f"mutant-{i}")
            shutil.copytree(tree, mtree)
            path = os.path.join(mtree, file)
            with open(path) as f:
                text = f.read()
            changed = old.sub(new, text, count=1) if isinstance(old, re.Pattern) else text.replace(old, new, 1)
            if changed == text:
                survivors.append(f"{what}: the mutation no longer applies to {file} (update MUTATIONS)")
                continue
            with open(path, "w") as f:
                f.write(changed)
            got = check_tree(mtree, args.kubectl, args.kubernetes_version, kv, schemas, quiet=True)
            hit = [g for g in got if expect in g]
            if hit:
                print(f"  caught: {what}\n          → {hit[0]}")
            else:
                survivors.append(f"{what}: not caught (expected a failure containing {expect!r}; got {got[:3]})")
        if survivors:
            print("check-kubernetes: FAILED, a broken manifest passed:", file=sys.stderr)
            for s in survivors:
                print(f"  - {s}", file=sys.stderr)
            return 1
        print(f"check-kubernetes: all {len(MUTATIONS)} mutations caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
