"""The dev host runs functions as the Functions host would, reading host.json."""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

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
    assert host.request("GET", "/api/things/7").status == 405
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
