"""deploy/ checked without Docker or Kubernetes: the files parse, agree with each other and
with .streamlit/config.toml, and nginx accepts the config deploy/run-local.sh generates."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
APP_PORT = 8501

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_load  # noqa: E402

# ---------------------------------------------------------------- a small YAML reader


def parse_yaml(text: str):
    """The block-style YAML subset the files in deploy/ use: nested mappings and sequences,
    plain or quoted scalars, JSON-style flow lists. Cross-checked with PyYAML when present."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        assert "\t" not in raw, f"line {number}: a tab in YAML"
        lines.append([len(raw) - len(raw.lstrip(" ")), raw.strip()])
    value, end = _block(lines, 0, lines[0][0])
    assert end == len(lines), f"unparsed YAML from: {lines[end][1]!r}"
    return value


def _scalar(text: str):
    if text.startswith(("[", '"')):
        return json.loads(text)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _is_pair(text: str) -> bool:
    return re.match(r"^[\w.\-/]+:( |$)", text) is not None


def _block(lines, i, indent):
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            item = lines[i][1][2:].strip()
            if _is_pair(item):  # "- name: x" opens a mapping two columns in
                lines[i] = [indent + 2, item]
                value, i = _block(lines, i, indent + 2)
            else:
                value, i = _scalar(item), i + 1
            items.append(value)
        return items, i
    mapping = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        assert _is_pair(lines[i][1]), f"not a key: {lines[i][1]!r}"
        key, _, rest = lines[i][1].partition(":")
        rest = rest.strip()
        if rest:
            mapping[key], i = _scalar(rest), i + 1
        elif i + 1 < len(lines) and lines[i + 1][0] > indent:
            mapping[key], i = _block(lines, i + 1, lines[i + 1][0])
        else:
            mapping[key], i = None, i + 1
    return mapping, i


def load_yaml(path: Path):
    text = path.read_text()
    parsed = parse_yaml(text)
    try:
        import yaml
    except ImportError:
        return parsed
    assert parsed == yaml.safe_load(text), f"{path.name}: the small reader disagrees with PyYAML"
    return parsed


# ---------------------------------------------------------------- shared facts


def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def nginx_directive(text: str, name: str) -> list[str]:
    code = re.sub(r"#[^\n]*", "", text)
    return [m.strip() for m in re.findall(rf"(?m)^\s*{name}\s+([^;]+);", code)]


def megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()
    return int(number) / {"k": 1024, "m": 1, "g": 1 / 1024, "": 2**20}[unit.lower()]


LOCATIONS = (DEPLOY / "nginx" / "locations.conf").read_text()
MAPS = (DEPLOY / "nginx" / "maps.conf").read_text()
NGINX_CONF = (DEPLOY / "nginx" / "nginx.conf").read_text()
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
LIVENESS = re.search(r'(?m)^LIVENESS_PATH = "([^"]+)"$', (ROOT / "serve.py").read_text()).group(1)
"""serve.py's liveness route (read, not imported: st.App() pins Streamlit's config dir)."""


def require_nginx():
    if not Path(NGINX).exists():
        message = "nginx is missing: apt-get install nginx"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# ---------------------------------------------------------------- Streamlit settings


def test_streamlit_settings_suit_a_shared_deployment():
    conf = streamlit_config()
    server, client = conf["server"], conf["client"]
    assert 1 <= server["maxUploadSize"] <= 10, "a small upload limit for a class"
    assert server["enableXsrfProtection"] is True
    assert server["fileWatcherType"] == "none"
    assert server["headless"] is True
    assert client["showErrorDetails"] in ("none", "type"), "no tracebacks for students"
    assert client["toolbarMode"] == "minimal"
    assert conf["theme"]["base"] == "light" and conf["theme"]["primaryColor"] == "#2563eb"


def test_websocket_message_limits_fit_the_app_not_streamlits_defaults():
    from bench_app import PAYLOAD_BUDGET_B

    from explorer import config as cfg

    server = streamlit_config()["server"]
    # out: a figure is budgeted at 3 MB (the largest measured is 1.6 MB,
    # benchmarks/bench_messages.py); room for that, far below Streamlit's 200 MB
    assert 4 * PAYLOAD_BUDGET_B <= server["maxMessageSize"] * 1e6 <= 32e6
    # in: widget values and the query string, kilobytes (the text boxes are bounded)
    longest_widget_text = sum(f.max_chars for f in cfg.FIELDS)
    assert 100 * longest_widget_text < server["maxWidgetStateSize"] * 1e6
    assert server["maxWidgetStateSize"] <= 2


def test_the_longest_link_the_app_accepts_passes_nginx():
    """nginx refuses a request line longer than its header buffer (8 KB by default, not
    changed here) with 414: every link the app accepts must fit, so the link limits
    (``max_chars``) and nginx agree."""
    import urllib.parse

    from explorer import config as cfg

    assert "large_client_header_buffers" not in LOCATIONS + NGINX_CONF
    longest = {f.key: "%" * f.max_chars for f in cfg.FIELDS}  # each character sent as %25
    link = "GET /?" + urllib.parse.urlencode({**longest, "view": "Error surface",
                                             "preset": "x" * 40, "present": "1"}) + \
        " HTTP/1.1"
    assert len(link) < 8 * 1024


def test_show_error_details_is_a_value_streamlit_knows():
    from streamlit.config import ShowErrorDetailsConfigOptions

    valid = {option.value for option in ShowErrorDetailsConfigOptions}
    assert streamlit_config()["client"]["showErrorDetails"] in valid


# ---------------------------------------------------------------- nginx


def test_upload_limit_of_nginx_matches_streamlit():
    # Streamlit accepts a body of maxUploadSize plus 1 MB of multipart framing
    (size,) = nginx_directive(LOCATIONS, "client_max_body_size")
    assert megabytes(size) == streamlit_config()["server"]["maxUploadSize"] + 1


def test_websocket_route_upgrades_and_stays_open():
    stream = re.search(r"location /_stcore/stream \{(.*?)\}", LOCATIONS, re.S)
    assert stream, "a location for Streamlit's websocket"
    assert "proxy_http_version 1.1" in LOCATIONS
    assert "proxy_set_header Upgrade $http_upgrade" in LOCATIONS
    assert "proxy_set_header Connection $connection_upgrade" in LOCATIONS
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{[^}]*default upgrade;", MAPS)
    timeouts = re.findall(r"proxy_read_timeout (\d+)s", stream.group(1))
    assert timeouts and int(timeouts[0]) >= 3600


def test_host_header_keeps_the_port():
    # Streamlit compares Origin with Host for the websocket: $host would drop the port
    assert "proxy_set_header Host $http_host;" in LOCATIONS


def test_health_is_routed_and_liveness_is_not_public():
    assert re.search(r"location = /_stcore/health \{[^}]*proxy_pass http://streamlit;",
                     LOCATIONS)
    # probes call each replica directly; through nginx it would describe a random replica
    assert re.search(rf"location = {LIVENESS} \{{\s*return 404;\s*\}}", LOCATIONS)


def test_sessions_are_sticky_on_a_cookie_not_the_client_address():
    for text in (NGINX_CONF, generated_config(2, 18600)):
        upstream = re.search(r"upstream streamlit \{(.*?)\}", text, re.S).group(1)
        assert "hash $lfe_affinity consistent;" in upstream
        assert "ip_hash" not in re.sub(r"#[^\n]*", "", upstream)
    assert re.search(r"map \$cookie_lfe_affinity \$lfe_affinity \{", MAPS)
    assert "add_header Set-Cookie $lfe_affinity_set_cookie always;" in LOCATIONS


def test_static_assets_are_cached_by_nginx():
    static = re.search(r"location /static/ \{(.*?)\}", LOCATIONS, re.S)
    assert static and "proxy_cache lfe_static;" in static.group(1)
    assert "add_header" not in static.group(1), "would drop the server-level Set-Cookie"
    for text in (NGINX_CONF, generated_config(2, 18600)):
        assert re.search(r"proxy_cache_path \S+ keys_zone=lfe_static:", text)


def generated_config(replicas: int, port: int, directory: Path | None = None) -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = directory or Path(tmp)
        subprocess.run(["bash", str(DEPLOY / "run-local.sh"), "--config", str(replicas),
                        str(port), str(target)], check=True, timeout=30)
        return (target / "nginx.conf").read_text()


def test_generated_config_lists_each_replica_and_the_loopback_listener(tmp_path):
    text = generated_config(3, 18600, tmp_path)
    assert bench_load.upstream_ports(tmp_path / "nginx.conf") == [18601, 18602, 18603]
    assert "listen 127.0.0.1:18600;" in text
    assert "daemon off;" in text
    for directive in ("pid", "error_log", "client_body_temp_path", "proxy_temp_path"):
        assert str(tmp_path) in nginx_directive(text, directive)[0]
    assert f'include "{DEPLOY}/nginx/maps.conf";' in text
    assert f'include "{DEPLOY}/nginx/locations.conf";' in text


def test_nginx_accepts_the_generated_config(tmp_path):
    require_nginx()
    generated_config(2, 18600, tmp_path)
    result = subprocess.run(
        [NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
         "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_nginx_accepts_the_compose_config(tmp_path):
    """deploy/nginx/nginx.conf as the container sees it, with its includes, temp and cache
    paths pointed here and the Compose service name replaced by loopback."""
    require_nginx()
    text = NGINX_CONF.replace("/etc/nginx/lfe/", f"{DEPLOY}/nginx/")
    text = text.replace("server app:8501", "server 127.0.0.1:8501")
    text = text.replace("/var/cache/nginx/", f"{tmp_path}/cache/")  # exists in nginx's image
    (tmp_path / "cache").mkdir()
    temp = "".join(f"    {kind}_temp_path {tmp_path}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = text.replace("http {\n", "http {\n" + temp, 1)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-g", f"pid {tmp_path}/nginx.pid;"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _set_cookie(url: str) -> str:
    import ssl
    import urllib.error
    import urllib.request

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    for _ in range(100):  # until nginx listens
        try:
            with urllib.request.urlopen(url, timeout=5, context=context) as response:
                return response.headers["Set-Cookie"]
        except urllib.error.HTTPError as answer:  # 502: no replica behind it, cookie still set
            return answer.headers["Set-Cookie"]
        except urllib.error.URLError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not answer on {url}")


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_the_affinity_cookie_is_secure_over_https(tmp_path, https):
    """nginx for real on loopback with the shared rules (a self-signed certificate for
    HTTPS, no replica behind it): the routing cookie is Secure exactly over HTTPS."""
    require_nginx()
    if https and not shutil.which("openssl"):
        pytest.skip("openssl is missing")
    port = _free_port()
    text = generated_config(1, port, tmp_path)
    if https:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"),
                        "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True,
                       timeout=60)
        text = text.replace(f"listen 127.0.0.1:{port};",
                            f"listen 127.0.0.1:{port} ssl;\n"
                            f"        ssl_certificate {tmp_path}/cert.pem;\n"
                            f"        ssl_certificate_key {tmp_path}/key.pem;")
    (tmp_path / "nginx.conf").write_text(text)
    nginx = subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
                              "-e", str(tmp_path / "error.log")], stderr=subprocess.DEVNULL)
    try:
        cookie = _set_cookie(f"{'https' if https else 'http'}://127.0.0.1:{port}/")
    finally:
        nginx.terminate()
        nginx.wait(10)
    assert cookie.startswith("lfe_affinity=") and "HttpOnly" in cookie
    assert ("; Secure" in cookie) == https, cookie


# Measured in Chromium through deploy/run-local.sh (nginx's access log): what one student's
# fresh page load asks of nginx, and at most how many connections a browser opens at once.
STATIC_PER_LOAD, OTHERS_PER_LOAD, PER_CHANGE, BROWSER_CONNECTIONS = 119, 8, 2, 6
CLASS = 30  # students behind one school NAT: one client address


def _zone(name: str) -> dict[str, float]:
    match = re.search(rf"limit_req_zone \$binary_remote_addr zone={name}:\d+m "
                      rf"rate=(\d+)r/s;", MAPS)
    assert match, name
    return {"rate": int(match.group(1))}


def _bursts(text: str) -> dict[str, int]:
    return {zone: int(burst) for zone, burst in
            re.findall(r"limit_req zone=(\w+) burst=(\d+) nodelay;", text)}


def test_request_limits_let_a_class_behind_one_address_through():
    code = re.sub(r"#[^\n]*", "", LOCATIONS)
    static = re.search(r"location /static/ \{(.*?)\}", code, re.S).group(1)
    server_level = re.sub(r"location [^{]*\{.*?\}", "", code, flags=re.S)
    # every page and API request, static files apart: the whole class opening the link at
    # once fits the burst; the rate keeps up with everyone changing a setting every 2 s
    assert _bursts(server_level)["lfe_requests"] >= CLASS * OTHERS_PER_LOAD
    assert _zone("lfe_requests")["rate"] >= CLASS * PER_CHANGE / 2
    # static files (from nginx's cache) have their own, larger allowance
    assert _bursts(static) == {"lfe_static_requests": _bursts(static)["lfe_static_requests"]}
    assert _bursts(static)["lfe_static_requests"] >= CLASS * STATIC_PER_LOAD
    assert "limit_req_status 429;" in MAPS and "limit_conn_status 429;" in MAPS


def test_connection_limits_let_a_class_through_but_bound_one_client():
    code = re.sub(r"#[^\n]*", "", LOCATIONS)
    stream = re.search(r"location /_stcore/stream \{(.*?)\}", code, re.S).group(1)
    server_level = re.sub(r"location [^{]*\{.*?\}", "", code, flags=re.S)
    conns = dict(re.findall(r"limit_conn (\w+) (\d+);", server_level))
    in_stream = dict(re.findall(r"limit_conn (\w+) (\d+);", stream))
    # a location with its own limit_conn drops the inherited ones: the stream repeats it
    assert in_stream["lfe_connections"] == conns["lfe_connections"]
    assert int(conns["lfe_connections"]) >= CLASS * (BROWSER_CONNECTIONS + 2)  # two tabs each
    assert 2 * CLASS <= int(in_stream["lfe_sessions"]) <= 5 * CLASS  # sessions, not unbounded
    for zone in ("lfe_connections", "lfe_sessions"):
        assert re.search(rf"limit_conn_zone \$binary_remote_addr zone={zone}:\d+m;", MAPS)


# ---------------------------------------------------------------- Dockerfile and Compose


def test_dockerfile_builds_a_non_root_streamlit_image():
    assert re.search(r"(?m)^FROM python:3\.11-slim\s*$", DOCKERFILE)
    assert re.search(r"(?m)^COPY requirements\.txt ", DOCKERFILE)
    assert re.search(r"(?m)^RUN .*pip install -r requirements\.txt", DOCKERFILE)
    users = re.findall(r"(?m)^USER (\S+)", DOCKERFILE)
    assert users and users[-1] not in ("root", "0")
    cmd = json.loads(re.search(r"(?ms)^CMD (\[.*?\])\s*$",
                               DOCKERFILE.replace("\\\n", "")).group(1))
    # serve.py: app.py's page plus the liveness route
    assert cmd[:5] == ["python", "-m", "streamlit", "run", "serve.py"]
    assert cmd[cmd.index("--server.port") + 1] == str(APP_PORT)
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert re.search(rf"(?m)^EXPOSE {APP_PORT}\s*$", DOCKERFILE)


def _flags(argv: list[str]) -> dict[str, str]:
    return {argv[i]: argv[i + 1] for i in range(len(argv) - 1) if argv[i].startswith("--")}


def test_local_replicas_start_like_the_container():
    cmd = json.loads(re.search(r"(?ms)^CMD (\[.*?\])\s*$",
                               DOCKERFILE.replace("\\\n", "")).group(1))
    script = (DEPLOY / "run-local.sh").read_text().replace("\\\n", " ")
    line = re.search(r'"\$PYTHON" -m streamlit run serve\.py ([^>]*)>', script).group(1)
    local = _flags(line.split())
    container = _flags(cmd)
    for where in (local, container):
        where.pop("--server.address"), where.pop("--server.port")
    assert local == container
    assert container["--runner.postScriptGC"] == "false"


def test_dockerfile_copies_what_exists_and_the_ignore_file_lets_it_through():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for source in re.findall(r"(?m)^COPY (?:--\S+ )*(\S+) ", DOCKERFILE):
        assert (ROOT / source).exists(), source
        assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignore}, source


def test_compose_runs_replicas_behind_nginx():
    compose = load_yaml(DEPLOY / "compose.yaml")
    app, nginx = compose["services"]["app"], compose["services"]["nginx"]
    assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert re.fullmatch(r"\$\{REPLICAS:-[2-9]\}|[2-9]", str(app["deploy"]["replicas"]))
    assert str(APP_PORT) in app["expose"]
    assert app["healthcheck"]["test"] == ["CMD", *docker_healthcheck()]
    assert app["restart"] == "unless-stopped"  # what brings a replica the check stopped back
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"
    mounts = {v.split(":")[1]: (DEPLOY / v.split(":")[0]).resolve() for v in nginx["volumes"]}
    assert mounts["/etc/nginx/nginx.conf"] == DEPLOY / "nginx" / "nginx.conf"
    for included in re.findall(r"include (/etc/nginx/lfe/\S+);", NGINX_CONF):
        assert mounts[included].exists(), included
    assert f"server app:{APP_PORT}" in NGINX_CONF


def docker_healthcheck() -> list[str]:
    return json.loads(re.search(r"(?ms)^HEALTHCHECK .*?CMD (\[.*?\])\s*$",
                                DOCKERFILE.replace("\\\n", "")).group(1))


class _Replica(http.server.BaseHTTPRequestHandler):
    answer = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(self.answer if self.path == LIVENESS else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("answer, stopped", [(200, False), (503, True)])
def test_container_health_check_stops_a_wedged_app_only(answer, stopped):
    """The Dockerfile's (and Compose's) check against a stand-in replica: 200 is healthy;
    503 (wedged) is unhealthy and TERMs PID 1, here a stand-in process, so the restart
    policy starts a fresh app (Docker does not restart an unhealthy container)."""
    argv = docker_healthcheck()
    assert argv[:2] == ["python", "-c"] and f"127.0.0.1:{APP_PORT}{LIVENESS}" in argv[2]
    handler = type("Replica", (_Replica,), {"answer": answer})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = subprocess.Popen(["sleep", "60"])
    try:
        code = argv[2].replace(f"127.0.0.1:{APP_PORT}", f"127.0.0.1:{server.server_port}")
        code = code.replace("os.kill(1,", f"os.kill({app.pid},")
        assert code != argv[2] and f"os.kill({app.pid}," in code
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        assert result.returncode == (1 if stopped else 0), result.stderr
        if stopped:
            assert app.wait(10) == -signal.SIGTERM
        else:
            assert app.poll() is None
    finally:
        app.kill()
        app.wait()
        server.shutdown()


# ---------------------------------------------------------------- Kubernetes


def k8s(name: str) -> dict:
    return load_yaml(DEPLOY / "k8s" / name)


def test_deployment_probes_health_and_runs_as_non_root():
    deployment = k8s("deployment.yaml")
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [APP_PORT]
    assert container["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    assert container["livenessProbe"]["httpGet"]["path"] == LIVENESS
    assert container["livenessProbe"]["httpGet"]["port"] == "http"
    assert container["livenessProbe"]["timeoutSeconds"] >= 3  # busy is not dead


def test_service_keeps_client_affinity_and_selects_the_pods():
    service, deployment = k8s("service.yaml"), k8s("deployment.yaml")
    assert service["kind"] == "Service"
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    port_names = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]
                  ["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names


def test_ingress_has_cookie_affinity_and_the_proxy_limits():
    ingress, service = k8s("ingress.yaml"), k8s("service.yaml")
    notes = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "affinity"] == "cookie"
    assert notes[prefix + "session-cookie-name"]
    assert megabytes(notes[prefix + "proxy-body-size"]) == \
        streamlit_config()["server"]["maxUploadSize"] + 1
    assert int(notes[prefix + "proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert int(notes[prefix + "limit-connections"]) >= CLASS * (BROWSER_CONNECTIONS + 2)


def test_ingress_serves_https_with_a_secure_affinity_cookie():
    ingress = k8s("ingress.yaml")
    notes = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "session-cookie-secure"] == "true"
    assert notes[prefix + "ssl-redirect"] == "true"
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"]
    assert {rule["host"] for rule in ingress["spec"]["rules"]} <= set(tls["hosts"])


def test_kustomization_lists_every_manifest():
    listed = set(k8s("kustomization.yaml")["resources"])
    assert listed == {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}


# ---------------------------------------------------------------- run-local.sh and the bench


def test_run_local_script_is_valid_bash_and_rejects_bad_arguments():
    subprocess.run(["bash", "-n", str(DEPLOY / "run-local.sh")], check=True, timeout=30)
    for args in ([], ["two", "8600"], ["2"], ["0", "8600"], ["2", "99999"]):
        result = subprocess.run(["bash", str(DEPLOY / "run-local.sh"), *args],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "usage" in result.stderr, args
    script = (DEPLOY / "run-local.sh").read_text()
    assert "trap cleanup EXIT" in script and "trap 'exit 143' TERM" in script


def test_bench_percentiles_and_profile_categories():
    assert bench_load.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert bench_load.percentile([5.0], 95) == 5.0
    stack = ["main (explorer/ui/__init__.py:24)", "training_figure (explorer/ui/compute.py:150)",
             "training_figure (explorer/figures/training.py:120)",
             "png_data_uri (explorer/figures/raster.py:50)"]
    assert bench_load.categorize(stack) == "PNG encoding and colour maps"
    assert bench_load.categorize(stack[:3]) == "figure building (Plotly objects)"


# ---------------------------------------------------------------- the rooms' database


def _database_url(text: str):
    from sqlalchemy.engine import make_url

    return make_url(text)


def test_compose_gives_every_replica_the_same_postgres_with_a_volume_and_a_health_check():
    compose = load_yaml(DEPLOY / "compose.yaml")
    app, postgres = compose["services"]["app"], compose["services"]["postgres"]
    url = _database_url(app["environment"]["DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == ("postgres", 5432)
    env = postgres["environment"]
    assert (url.username, url.database) == (env["POSTGRES_USER"], env["POSTGRES_DB"])
    assert url.password == env["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-lfe-rooms}"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    (volume,) = postgres["volumes"]
    name, mount = volume.split(":")
    assert mount == "/var/lib/postgresql/data" and name in compose["volumes"]
    assert "ports" not in postgres, "the database is reachable only inside the stack"
    assert re.fullmatch(r"postgres:\d+", postgres["image"])


def test_kubernetes_replicas_read_the_database_from_the_secret():
    secret = k8s("postgres-secret.yaml")
    service, statefulset = k8s("postgres-service.yaml"), k8s("postgres-statefulset.yaml")
    deployment = k8s("deployment.yaml")
    assert secret["kind"] == "Secret" and service["kind"] == "Service"
    assert statefulset["kind"] == "StatefulSet" and statefulset["spec"]["replicas"] == 1
    name = secret["metadata"]["name"]
    assert set(secret["stringData"]) == {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}

    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    order = [e["name"] for e in container["env"]]
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": name, "key": key}
        # $(VAR) only reads variables defined above it
        assert order.index(key) < order.index("DATABASE_URL")
    url = _database_url(env["DATABASE_URL"]["value"])
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.database) == \
        ("$(POSTGRES_USER)", "$(POSTGRES_PASSWORD)", "$(POSTGRES_DB)")
    assert url.host == service["metadata"]["name"]
    assert url.port == service["spec"]["ports"][0]["port"] == 5432

    pod = statefulset["spec"]["template"]
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (db,) = pod["spec"]["containers"]
    assert db["envFrom"] == [{"secretRef": {"name": name}}]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in db["ports"]}
    assert "pg_isready" in db["readinessProbe"]["exec"]["command"][-1]
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert {m["name"] for m in db["volumeMounts"]} == {claim["metadata"]["name"]}


def test_run_local_gives_several_replicas_one_postgres_and_one_replica_sqlite():
    script = (DEPLOY / "run-local.sh").read_text()
    assert '"$DEPLOY/local_postgres.py" start "$POSTGRES_DIR"' in script
    assert '[ -z "${DATABASE_URL:-}" ] && [ "$N" -ge 2 ]' in script
    assert '"$PYTHON" "$DEPLOY/local_postgres.py" stop "$POSTGRES_DIR"' in script
    assert "DATABASE_URL=$ROOMS_DATABASE" in script
