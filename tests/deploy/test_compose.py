"""docker-compose.yaml, Dockerfile, .dockerignore and .env.example against what zoom-sam relies on.

No container engine runs here, so the files are read as a reviewer reads them: the services of
Airflow's own compose topology, health checks and restart policies, secrets that must come from
.env, one warehouse connection for every component (the refresh-token chains live there), the
sandbox and the demo only under the ``sandbox`` profile, and an image built from the pins with
nothing of the tests in it.
"""
from __future__ import annotations

import re
import shutil

import pytest
import yaml

from project import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = {name: s for name, s in SERVICES.items() if name.startswith("airflow-")}
LONG_RUNNING = {name: s for name, s in SERVICES.items() if name != "airflow-init"}
SECRETS = ("AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD",
           "ZOOM_SAM_WAREHOUSE_PASSWORD")
RAW = (ROOT / "docker-compose.yaml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _mount(volume: str) -> tuple[str, str]:
    """(source, target) of a short-syntax volume, whose source may be a ``${VAR:-default}``."""
    source, target = re.match(r"^(\$\{[^}]*\}[^:]*|[^:]+):([^:]+)", volume).groups()
    return source, target


def _stages() -> dict[str, str]:
    """Dockerfile stage name -> its instructions."""
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", DOCKERFILE, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_the_services_of_airflows_celery_topology_and_the_sandbox():
    assert set(SERVICES) == {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                             "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "zoom-sandbox"}
    commands = {name: s.get("command") for name, s in AIRFLOW.items()}
    assert commands["airflow-apiserver"] == "api-server" and commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor" and commands["airflow-triggerer"] == "triggerer"
    assert commands["airflow-worker"] == "celery worker" and SERVICES["airflow-worker"]["deploy"]["replicas"] >= 2
    init = "\n".join(SERVICES["airflow-init"]["command"])
    assert "airflow db migrate" in init and "chown" in init and "AIRFLOW_UID" in init
    assert "simple_auth_manager_passwords.json" in init and "ZOOM_SAM_ADMIN_PASSWORD" in init


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_every_long_running_service_has_a_health_check_and_restarts(name):
    service = LONG_RUNNING[name]
    assert service["healthcheck"]["test"] and service["restart"] in ("always", "unless-stopped")


def test_components_start_in_order_and_workers_wait_for_the_execution_api():
    for name, service in AIRFLOW.items():
        needs = service["depends_on"]
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert needs["airflow-init"]["condition"] == "service_completed_successfully", name
    assert SERVICES["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert SERVICES["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"


def test_every_component_shares_executor_keys_warehouse_and_execution_api():
    envs = {name: s["environment"] for name, s in AIRFLOW.items()}
    shared = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
              "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
              "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE", "ZOOM_SAM_PROFILES_DIR",
              "AIRFLOW__CORE__TEST_CONNECTION")
    for key in shared:
        assert len({env[key] for env in envs.values()}) == 1, key
    env = envs["airflow-apiserver"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and env["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert SERVICES["airflow-apiserver"]["ports"] == ["8080:8080"]
    # Two databases on one server, each with its own role: Airflow's metadata and the warehouse.
    assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert re.fullmatch(r"postgresql://zoom_sam:\$\{ZOOM_SAM_WAREHOUSE_PASSWORD:\?[^}]+\}@postgres:5432/zoom_sam",
                        env["AIRFLOW_CONN_ZOOM_SAM_WAREHOUSE"])
    init_sql = [v for v in SERVICES["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    (script,) = [ROOT / _mount(v)[0] for v in init_sql]
    assert "CREATE DATABASE zoom_sam OWNER zoom_sam" in script.read_text()


def test_secrets_are_required_from_env_and_documented_in_env_example():
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(\W)", RAW)
        assert uses and set(uses) == {":"}, name
        assert len(re.findall(r"\$\{" + name + r":\?", RAW)) == len(uses), f"{name} without :? somewhere"
        assert example.get(name) == "", f".env.example must list {name} empty"
    assert "change-me" not in RAW and "airflow:airflow@" not in RAW
    env = AIRFLOW["airflow-apiserver"]["environment"]
    assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")


def test_volumes_exist_and_profiles_come_from_a_mounted_folder():
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source, _ = _mount(volume)
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), (name, volume)
            elif not source.startswith("$"):
                assert source in declared, (name, volume)
    for name, service in AIRFLOW.items():
        if name == "airflow-init":
            continue
        mounts = {_mount(v)[1]: v for v in service["volumes"]}
        assert mounts[service["environment"]["ZOOM_SAM_PROFILES_DIR"]].startswith("${ZOOM_SAM_PROFILES_HOST_DIR:-"), name
        assert "/opt/airflow/logs" in mounts, name


def test_the_sandbox_and_the_demo_exist_only_under_the_sandbox_profile():
    profiled = {name: s["profiles"] for name, s in SERVICES.items() if "profiles" in s}
    assert profiled == {"zoom-sandbox": ["sandbox"]}
    assert SERVICES["zoom-sandbox"]["build"]["target"] == "sandbox"
    for name, service in AIRFLOW.items():
        assert service["build"]["target"] == "runtime", name
        assert not any("include/profiles" in v or v.startswith("./dev") for v in service.get("volumes", [])), name
        if "zoom-sandbox" in service["depends_on"]:
            assert service["depends_on"]["zoom-sandbox"]["required"] is False, name
    bundles = yaml.safe_load(AIRFLOW["airflow-apiserver"]["environment"]["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])
    assert [b["name"] for b in bundles] == ["dags-folder", "zoom-sam-demo"]
    assert "find /opt/airflow/zoom-sam-demo -mindepth 1 -delete" in "\n".join(SERVICES["airflow-init"]["command"])


def test_the_demo_bundle_registers_the_demo_profile_and_nothing_else(tmp_path, monkeypatch):
    """What the sandbox service copies into the demo volume is a working DAG bundle of its own."""
    from airflow.dag_processing.dagbag import DagBag

    stage = _stages()["sandbox"]
    copied = dict(re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s+(\S+)$", stage, flags=re.MULTILINE))
    demo = tmp_path / "zoom-sam-demo"
    for source, target in copied.items():
        if target.startswith("/opt/zoom-sam-demo/"):
            destination = demo / target.removeprefix("/opt/zoom-sam-demo/")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, destination)
    monkeypatch.setenv("ZOOM_SAM_PROFILES_DIR", str(tmp_path / "empty-user-profiles"))
    (tmp_path / "empty-user-profiles").mkdir()
    bag = DagBag(dag_folder=str(demo / "dags"))
    assert not bag.import_errors and sorted(bag.dags) == ["zoom_sam__demo"]
    assert DagBag(dag_folder=str(ROOT / "dags")).dags == {}


def test_the_image_installs_the_pinned_runtime_and_no_test_tool():
    stages = _stages()
    assert list(stages) == ["wheel", "sandbox", "runtime"]  # the last stage is what a plain build gives
    base = re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:(\S+)-python3\.11$", DOCKERFILE, flags=re.MULTILINE)
    assert base and f"apache-airflow=={base.group(1)}\n" in (ROOT / "requirements.txt").read_text()
    runtime = stages["runtime"]
    assert "pip install --no-cache-dir -r /opt/zoom-sam/requirements.txt" in runtime
    assert re.search(r"pip install --no-cache-dir --no-deps /opt/zoom-sam/dist/zoom_sam-\*\.whl", runtime)
    assert " -e " not in DOCKERFILE and "requirements-dev.txt" not in runtime
    pins = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "playwright", "setuptools"):
        assert f"\n{tool}==" not in pins, tool
    assert "apache-airflow-providers-celery==" in pins


def test_every_copy_source_exists_and_the_context_leaves_out_what_the_image_must_not_hold():
    for source in re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(\S+)\s+\S+$", DOCKERFILE, flags=re.MULTILINE):
        assert (ROOT / source).exists(), source
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv/", ".airflow/", "tests/", ".env", "**/__pycache__/", ".pytest_cache/"} <= ignored
    copied = re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(\S+)\s+\S+$", DOCKERFILE, flags=re.MULTILINE)
    assert not [c for c in copied if c.startswith(("tests", ".venv", ".airflow", "dev/bench", "dev/stack"))]
