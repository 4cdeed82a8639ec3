"""Static checks of the deployment files, run by scripts/check-deploy.sh (no cluster, no Docker engine needed).

Every YAML under deploy/ parses and names its kind; Kubernetes objects carry what the operator guide promises
(probes on /healthz and /readyz, one GPU and one Hangfire worker per GPU pod, non-root); every setting the
manifests and the compose file pass as Section__Key exists in the service's option classes or appsettings.json;
every file the Dockerfiles copy from the build context exists and is let through by .dockerignore.
Prints one line per problem and exits 1 if there is any.
"""
import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def problem(where, text):
    problems.append(f"{os.path.relpath(where, ROOT)}: {text}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# --- Settings the service understands -------------------------------------------------------------
def option_properties(cs_file, class_name):
    """Public settable properties of one options class, read from its source."""
    text = open(os.path.join(ROOT, cs_file), encoding="utf-8").read()
    body = text.split(f"class {class_name}", 1)[1]
    body = body.split("\npublic ", 1)[0]  # up to the next top-level type
    return set(re.findall(r"public [\w\[\]<>?]+ (\w+) \{ get; set; \}", body))


def flatten(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from flatten(v, f"{prefix}{k}:")
    else:
        yield prefix.rstrip(":")


def known_setting(name, options, appsettings_keys):
    parts = name.split("__")
    key = ":".join(p for p in parts if not p.isdigit())
    if key in appsettings_keys or any(k.startswith(key + ":") for k in appsettings_keys):
        return True
    section, rest = parts[0], [p for p in parts[1:] if not p.isdigit()]
    if section == "Logging" or section == "ConnectionStrings":
        return True
    if section in options and len(rest) == 1:
        return rest[0] in options[section]
    if section == "Storage" and len(rest) == 2 and rest[0] == "S3":
        return rest[1] in options["Storage:S3"]
    return False


options = {
    "Service": option_properties("src/TpcCma.Service/Hosting/ServiceOptions.cs", "ServiceOptions"),
    "Hangfire": option_properties("src/TpcCma.Service/Hosting/ServiceOptions.cs", "HangfireSettings"),
    "Storage": option_properties("src/TpcCma.Service/Storage/StorageOptions.cs", "StorageOptions"),
    "Storage:S3": option_properties("src/TpcCma.Service/Storage/StorageOptions.cs", "S3StorageOptions"),
}
appsettings_keys = set(flatten(json.load(open(os.path.join(ROOT, "appsettings.json"), encoding="utf-8"))))
# Sections the service reads that this list does not model are trusted as they are (e.g. Auth, Hub).
checked_sections = {"Service", "Hangfire", "Storage", "ConnectionStrings"}


def check_setting_names(where, names):
    for name in names:
        if "__" in name and name.split("__")[0] in checked_sections and not known_setting(name, options, appsettings_keys):
            problem(where, f"setting {name} is not a property of the service's options nor a key of appsettings.json")


# --- Kubernetes manifests -------------------------------------------------------------------------
def containers(doc):
    spec = doc.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {})
    return template.get("spec", {}).get("containers", []), template.get("spec", {})


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


configmap_names = set()
for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "**", "*.y*ml"), recursive=True)):
    try:
        docs = load_all(path)
    except yaml.YAMLError as error:
        problem(path, f"not valid YAML: {error}")
        continue
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            problem(path, "a document without 'kind'")
            continue
        if doc["kind"] == "Kustomization":
            for resource in doc.get("resources", []):
                if not os.path.exists(os.path.join(os.path.dirname(path), resource)):
                    problem(path, f"resource {resource} does not exist")
            continue
        name = doc.get("metadata", {}).get("name")
        if not doc.get("apiVersion") or not name:
            problem(path, f"{doc['kind']} without apiVersion or metadata.name")
            continue
        if doc["kind"] in ("ConfigMap", "Secret"):
            data = doc.get("data") or doc.get("stringData") or {}
            check_setting_names(path, data.keys())
        for container in containers(doc)[0]:
            check_setting_names(path, env_of(container).keys())
        if doc["kind"] != "Deployment":
            continue
        pod_containers, pod = containers(doc)
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problem(path, f"{name}: pods must run as non-root")
        for c in pod_containers:
            probes = {p: c.get(p, {}).get("httpGet", {}).get("path") for p in ("livenessProbe", "readinessProbe", "startupProbe")}
            if probes["livenessProbe"] != "/healthz":
                problem(path, f"{name}: liveness probe must be GET /healthz, is {probes['livenessProbe']}")
            env = env_of(c)
            mode = c.get("args", [None, None])[1] if c.get("args", [None])[0] == "--mode" else env.get("Service__Mode")
            if mode == "api" and probes["readinessProbe"] != "/readyz":
                problem(path, f"{name}: the API's readiness probe must be GET /readyz, is {probes['readinessProbe']}")
            gpus = c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
            if gpus is not None:
                if str(gpus) != "1":
                    problem(path, f"{name}: a GPU worker pod owns exactly one GPU (nvidia.com/gpu: 1), has {gpus}")
                if env.get("Service__WorkerCount") != "1":
                    problem(path, f"{name}: a one-GPU pod runs one Hangfire worker (Service__WorkerCount \"1\")")
                if not pod.get("nodeSelector"):
                    problem(path, f"{name}: a GPU worker needs a nodeSelector for its node kind")
                if not env.get("Service__Queues__0"):
                    problem(path, f"{name}: a GPU worker names its queue (Service__Queues__0)")
            if mode == "worker" and not env.get("Service__Queues__0"):
                problem(path, f"{name}: a worker names its queue (Service__Queues__0)")

# --- docker-compose.yml -----------------------------------------------------------------------------
compose_path = os.path.join(ROOT, "docker-compose.yml")
compose = load_all(compose_path)[0]
for service_name, service in compose.get("services", {}).items():
    environment = service.get("environment") or {}
    names = environment.keys() if isinstance(environment, dict) else [e.split("=", 1)[0] for e in environment]
    check_setting_names(compose_path, names)
gpu_worker = compose["services"].get("worker-gpu", {})
devices = gpu_worker.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
if not any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices):
    problem(compose_path, "worker-gpu must reserve the NVIDIA GPUs (deploy.resources.reservations.devices)")

# --- Dockerfiles and .dockerignore ------------------------------------------------------------------
allowed = [l.strip()[1:].rstrip("/") for l in open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") if l.strip().startswith("!")]
for dockerfile in ("Dockerfile", "Dockerfile.gpu"):
    path = os.path.join(ROOT, dockerfile)
    text = open(path, encoding="utf-8").read()
    for needed, why in (("USER app", "a non-root user"), ("HEALTHCHECK", "a health check"), ("/healthz", "the health check on /healthz")):
        if needed not in text:
            problem(path, f"missing {why} ({needed})")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        sources = [s for s in line.split() if not s.startswith("--")][:-1]
        for source in sources:
            source = source.rstrip("/")
            if not os.path.exists(os.path.join(ROOT, source)):
                problem(path, f"COPY source {source} does not exist")
            elif not any(source == a or source.startswith(a + "/") for a in allowed):
                problem(path, f"COPY source {source} is excluded by .dockerignore")
if "TorchBackend=cuda" not in open(os.path.join(ROOT, "Dockerfile.gpu"), encoding="utf-8").read():
    problem(os.path.join(ROOT, "Dockerfile.gpu"), "must publish with -p:TorchBackend=cuda")

# --- The API image ships without libtorch; workers get it ------------------------------------------------
def stages(dockerfile):
    """Each stage of a Dockerfile: name -> (base, text of its instructions)."""
    found, name = {}, None
    for line in open(os.path.join(ROOT, dockerfile), encoding="utf-8").read().splitlines():
        header = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if header:
            name = header.group(2) or f"#{len(found)}"
            found[name] = [header.group(1), ""]
        elif name:
            found[name][1] += line + "\n"
    return found


def published_by(all_stages, stage):
    """The stage whose /app a runtime stage copies, and the publish line of that stage."""
    copied = re.search(r"COPY --from=(\S+)\s.*\s/app\s*$", all_stages[stage][1], re.M)
    if not copied:
        return None, ""
    source = copied.group(1)
    text = all_stages.get(source, ["", ""])[1].replace("\\\n", " ")
    return source, "\n".join(l for l in text.splitlines() if "dotnet publish" in l)


dockerfile_path = os.path.join(ROOT, "Dockerfile")
cpu_stages = stages("Dockerfile")
for target, backend, mode in (("api", "none", "api"), ("worker", "cpu", "worker")):
    if target not in cpu_stages:
        problem(dockerfile_path, f"no '{target}' target")
        continue
    source, publish = published_by(cpu_stages, target)
    if not publish:
        problem(dockerfile_path, f"target {target} copies no published /app")
        continue
    # TorchBackend defaults to cpu (Directory.Build.props): the worker may leave it out, the API must say none.
    says = re.search(r"-p:TorchBackend=(\w+)", publish)
    if (says.group(1) if says else "cpu") != backend:
        problem(dockerfile_path, f"target {target} must publish (stage {source}) with TorchBackend={backend}")
    restore = re.search(r"dotnet restore[^\n]*", cpu_stages[source][1])
    restore_says = re.search(r"-p:TorchBackend=(\w+)", restore.group(0)) if restore else None
    if restore and (restore_says.group(1) if restore_says else "cpu") != backend:
        problem(dockerfile_path, f"stage {source} restores for another TorchBackend than it publishes ({backend})")
    if f"Service__Mode={mode}" not in cpu_stages[target][1]:
        problem(dockerfile_path, f"target {target} must default to Service__Mode={mode}")
if list(cpu_stages)[-1] != "api":
    problem(dockerfile_path, "the last stage (a plain `docker build .`) must be the API image")

# Which image each process runs: the API never gets the worker image, a worker never the API image.
def compose_image(service):
    build = service.get("build") or {}
    if isinstance(build, str):
        build = {"context": build}
    return build.get("dockerfile", "Dockerfile" if build else None), build.get("target"), str(service.get("image", ""))


compose_images = {}
for service_name, service in compose.get("services", {}).items():
    compose_images[str(service.get("image", "")).split(":")[0]] = compose_image(service)
for service_name, service in compose.get("services", {}).items():
    command = service.get("command") or []
    mode = command[1] if len(command) > 1 and command[0] == "--mode" else ("worker" if service_name.startswith("worker") else None)
    if mode is None:
        continue
    dockerfile, target, image = compose_image(service)
    if not dockerfile:   # an image built by another service
        dockerfile, target, _ = compose_images.get(image.split(":")[0], (None, None, None))
    wanted = {"api": [("Dockerfile", "api")], "worker": [("Dockerfile", "worker"), ("Dockerfile.gpu", None)]}.get(mode, [])
    if (dockerfile, target) not in wanted:
        problem(compose_path, f"service {service_name} (--mode {mode}) builds {dockerfile} target {target}; expected one of {wanted}")

k8s_images = {"api": {"tpccma-api"}, "worker": {"tpccma-worker", "tpccma-worker-gpu"}}
kustomization = load_all(os.path.join(ROOT, "deploy", "k8s", "kustomization.yaml"))[0]
known_images = {i["name"] for i in kustomization.get("images", [])}
for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml"))):
    for doc in load_all(path):
        if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
            continue
        for c in containers(doc)[0]:
            args = c.get("args") or []
            mode = args[1] if len(args) > 1 and args[0] == "--mode" else env_of(c).get("Service__Mode")
            if mode in k8s_images and c.get("image") not in k8s_images[mode]:
                problem(path, f"{doc['metadata']['name']}: --mode {mode} runs image {c.get('image')}, expected one of {sorted(k8s_images[mode])}")
            if c.get("image") not in known_images:
                problem(path, f"{doc['metadata']['name']}: image {c.get('image')} has no entry in kustomization.yaml's images")

for line in problems:
    print("  " + line)
sys.exit(1 if problems else 0)
