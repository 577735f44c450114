"""The dev host runs functions as the Functions host would, reading host.json."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import azure.functions as func
import pytest

from shared_code.devhost import DevHost, HostSettings

ROOT = Path(__file__).resolve().parent.parent


def small_app(attempts: list[int], fail_until: int) -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name("enqueue")
    @app.route(route="things/{thing_id:int}", methods=["POST"])
    @app.queue_output(arg_name="outbox", queue_name="work", connection="AzureWebJobsStorage")
    def enqueue(req: func.HttpRequest, outbox: func.Out[list[str]]) -> func.HttpResponse:
        outbox.set([req.route_params["thing_id"]])
        return func.HttpResponse(status_code=202)

    @app.function_name("work")
    @app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
    def work(msg: func.QueueMessage) -> None:
        attempts.append(msg.dequeue_count)
        if msg.dequeue_count < fail_until:
            raise RuntimeError("transient")

    @app.function_name("tick")
    @app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *")
    def tick(timer: func.TimerRequest) -> None:
        attempts.append(-1)

    return app


def host_json(tmp_path: Path, max_dequeue_count: int) -> Path:
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"queues": {"maxDequeueCount": max_dequeue_count}}})
    )
    return tmp_path


def test_the_dev_host_reads_the_projects_host_json() -> None:
    declared = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]["maxDequeueCount"]
    assert HostSettings.from_host_json(ROOT / "host.json").max_dequeue_count == declared


def test_queue_output_reaches_the_queue_function_and_retries_until_it_succeeds(tmp_path) -> None:
    attempts: list[int] = []
    host = DevHost(small_app(attempts, fail_until=3), root=host_json(tmp_path, 5))
    assert host.request("POST", "/api/things/7").status == 202
    assert host.drain() == 3
    assert attempts == [1, 2, 3]
    assert host.poison("work") == []


def test_a_message_failing_max_dequeue_count_times_goes_to_the_poison_queue(tmp_path) -> None:
    attempts: list[int] = []
    host = DevHost(small_app(attempts, fail_until=99), root=host_json(tmp_path, 3))
    host.request("POST", "/api/things/8")
    host.drain()
    assert attempts == [1, 2, 3]
    assert host.poison("work") == ["8"]


def test_routes_match_by_method_and_constraint(tmp_path) -> None:
    host = DevHost(small_app([], fail_until=0), root=host_json(tmp_path, 5))
    wrong_method = host.request("GET", "/api/things/7")
    assert (wrong_method.status, wrong_method.headers["allow"]) == (405, "POST")
    assert host.request("POST", "/api/things/abc").status == 404


def test_a_timer_runs_on_demand(tmp_path) -> None:
    attempts: list[int] = []
    DevHost(small_app(attempts, fail_until=0), root=host_json(tmp_path, 5)).run_timer("tick")
    assert attempts == [-1]


def test_static_files_are_served_without_escaping_web(tmp_path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<h1>site</h1>")
    host = DevHost(small_app([], fail_until=0), root=host_json(tmp_path, 5))
    assert host.request("GET", "/").body == b"<h1>site</h1>"
    assert host.request("GET", "/../host.json").status == 404


def test_make_run_keeps_one_local_key_for_the_autotask_secret(tmp_path) -> None:
    from cryptography.fernet import Fernet

    from shared_code.cli import local_encryption_key

    key = local_encryption_key(tmp_path / ".local")
    assert local_encryption_key(tmp_path / ".local") == key  # the same across restarts
    Fernet(key.encode())  # a valid key
    assert (tmp_path / ".local" / "settings-encryption.key").stat().st_mode & 0o077 == 0


def test_a_failed_message_is_retried_after_the_scaled_visibility_timeout(tmp_path) -> None:
    """host.json's visibilityTimeout (here 10 s) times the scale (0.02): retries 0.2 s apart,
    not back to back."""
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {"queues": {"maxDequeueCount": 3, "visibilityTimeout": "00:00:10"}},
            }
        )
    )
    attempts: list[int] = []
    host = DevHost(small_app(attempts, fail_until=99), root=tmp_path, visibility_scale=0.02)
    times: list[float] = []
    work = host.queue_functions["work"]
    call = work.call
    work.call = lambda **kwargs: (times.append(time.monotonic()), call(**kwargs))
    host.enqueue("work", "7")
    assert host.drain() == 3
    assert attempts == [1, 2, 3] and host.poison("work") == ["7"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.2


def echo_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name("echo")
    @app.route(route="echo", methods=["GET", "POST"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        time.sleep(0.2)  # slow enough that 20 callers overlap
        return func.HttpResponse(req.get_body() or b"-", status_code=200)

    return app


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, int]]:
    """The dev host on a real port, as ``make run`` serves it."""
    server = DevHost(echo_app(), root=host_json(tmp_path, 5)).server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield "127.0.0.1", server.effective_port
    server.close()


def raw_request(address: tuple[str, int], data: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_twenty_parallel_connections_are_all_answered(served) -> None:
    start = threading.Barrier(20)

    def call(_: int) -> int:
        start.wait()
        connection = http.client.HTTPConnection(*served, timeout=10)
        connection.request("GET", "/api/echo")
        return connection.getresponse().status

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(call, range(20))) == [200] * 20


def test_idle_half_open_connections_do_not_keep_others_out(served) -> None:
    held = [socket.create_connection(served, timeout=5) for _ in range(150)]
    try:
        for connection in held:
            connection.sendall(b"GET /api/echo HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        answer = raw_request(served, b"GET /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    finally:
        for connection in held:
            connection.close()
    assert answer.split(b" ")[1] == b"200"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"404"),
        (b"GET /api/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"404"),
        (
            b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\nxyz",
            b"400",
        ),
        (b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\nxyz", b"400"),
    ],
)
def test_malformed_requests_are_answered_with_a_4xx_not_a_traceback_or_a_hang(
    served, request_bytes: bytes, status: bytes
) -> None:
    answer = raw_request(served, request_bytes)
    assert answer.split(b" ")[1] == status
    assert b"Traceback" not in answer


def test_a_chunked_body_reaches_the_function(served) -> None:
    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    answer = raw_request(
        served,
        b"POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + chunked,
    )
    assert answer.split(b" ")[1] == b"200"
    assert answer.endswith(b"hello world")


def test_a_question_mark_encoded_in_the_path_stays_in_the_path(db, entra) -> None:
    """PATH_INFO arrives decoded: %3F in an id must not cut the path short and hit a shorter route."""
    from werkzeug.test import Client

    import function_app  # noqa: F401
    from shared_code.devhost import DevHost

    response = Client(DevHost()).post(
        "/api/runs/1%3Fx/autotask-ticket", json={}, headers=entra.bearer("Admin")
    )
    # "1?x" is no run id (the API's 404), not "runs/1", which has no POST route (405)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_site_is_served_with_the_static_sites_security_headers_and_an_empty_config(tmp_path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "index.html").write_text("<!doctype html>")
    (tmp_path / "web" / "staticwebapp.config.json").write_text(
        json.dumps({"globalHeaders": {"Content-Security-Policy": "default-src 'self'"}})
    )
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0"}))
    host = DevHost(func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS), root=tmp_path)

    for path in ("/", "/config.json", "/missing.js"):
        assert host.request("GET", path).headers["Content-Security-Policy"] == "default-src 'self'", path
    config = host.request("GET", "/config.json")
    assert (config.status, config.json()) == (200, {})
    (tmp_path / "web" / "config.json").write_text('{"clientId": "x"}')
    assert host.request("GET", "/config.json").json() == {"clientId": "x"}


def test_the_projects_csp_allows_only_the_sites_own_scripts() -> None:
    policy = json.loads((ROOT / "web" / "staticwebapp.config.json").read_text())["globalHeaders"][
        "Content-Security-Policy"
    ]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self' 'unsafe-eval'"  # Alpine evaluates its expressions
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
