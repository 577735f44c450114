"""Reasons on Run Checks rows: failing objects in short, the shared cause, drift in successful runs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from shared_code.runs.overrides import ObjectResult
from shared_code.runs.reasons import cause_of, readable_size
from tests.support.factories import T0, a_job, a_run

GB, MB = 1024**3, 1024**2


def checked_runs(api) -> dict[int, dict]:
    page = api.get("/api/run-checks").json()
    return {r["id"]: r for c in page["customers"] for j in c["jobs"] for r in j["runs"]}


def vms(failing: dict[str, str], total: int) -> tuple[ObjectResult, ...]:
    bad = [ObjectResult(name, "failed", message) for name, message in failing.items()]
    good = [ObjectResult(f"VM-OK{n:02d}", "success", None) for n in range(total - len(bad))]
    return tuple(bad + good)


def test_a_failed_run_says_which_objects_failed_and_why_in_one_line(db: Session, api) -> None:
    job = a_job(db)
    run = a_run(
        db,
        job,
        objects=vms(
            {"VM-SQL01": "Changed block tracking reset", "VM-APP02": "Snapshot timed out", "VM-DC1": "CBT"},
            36,
        ),
    )
    db.commit()

    reason = checked_runs(api)[run.id]["reason"]
    assert reason["summary"] == "3 of 36 objects failed: VM-SQL01 — Changed block tracking reset"
    assert (reason["object_count"], reason["failing_count"]) == (36, 3)
    assert [o["name"] for o in reason["failing"]] == ["VM-SQL01", "VM-APP02", "VM-DC1"]


def test_a_report_without_failing_objects_gives_its_subject_and_a_success_no_reason(db: Session, api) -> None:
    job = a_job(db, job_name="Offsite copy")
    bare = a_run(db, job, status="failed")
    fine = a_run(db, job, status="success", at=T0 + timedelta(hours=1))
    db.commit()

    runs = checked_runs(api)
    assert runs[bare.id]["reason"]["summary"] == (
        "The report says failed without naming an object: [failed] Offsite copy"
    )
    assert runs[fine.id]["reason"] is None


def test_the_same_error_on_other_objects_and_days_is_one_cause() -> None:
    one = cause_of("Error: VM 'SQL01' snapshot 4711 failed at 2026-11-20 03:12 on host esx-07", ["SQL01"])
    two = cause_of("Error: VM 'FILE02' snapshot 815 failed at 2026-11-21 04:40 on host esx-11", ["FILE02"])
    other = cause_of("Error: not enough free space on the repository")
    assert one == two
    assert one != other
    assert "4711" not in one and "2026" not in one


def test_causes_group_runs_of_different_jobs(db: Session, api) -> None:
    first, second = a_job(db), a_job(db)
    a = a_run(db, first, objects=vms({"SRV1": "Job exceeded 120 minutes window"}, 4))
    b = a_run(db, second, objects=vms({"SRV2": "Job exceeded 95 minutes window"}, 2))
    c = a_run(db, second, at=T0 + timedelta(hours=1), objects=vms({"SRV2": "Repository offline"}, 2))
    db.commit()

    runs = checked_runs(api)
    assert runs[a.id]["reason"]["cause"] == runs[b.id]["reason"]["cause"] != runs[c.id]["reason"]["cause"]


def test_a_successful_run_missing_an_object_every_recent_run_had_is_success_but(db: Session, api) -> None:
    job = a_job(db)
    full = (ObjectResult("VM-A", "success", None), ObjectResult("VM-B", "success", None))
    for day in range(1, 5):
        run = a_run(db, job, status="success", at=T0 - timedelta(days=day), objects=full)
        run.reviewed_at = T0
    short = a_run(db, job, status="success", objects=full[:1])
    db.commit()

    drift = checked_runs(api)[short.id]["drift"]
    assert drift["missing_objects"] == ["VM-B"]
    assert drift["summary"].startswith("Success, but VM-B is missing")


def test_no_drift_without_enough_history_or_when_everything_is_there(db: Session, api) -> None:
    job = a_job(db)
    full = (ObjectResult("VM-A", "success", None), ObjectResult("VM-B", "success", None))
    for day in (1, 2):
        a_run(db, job, status="success", at=T0 - timedelta(days=day), objects=full).reviewed_at = T0
    short = a_run(db, job, status="success", objects=full[:1])
    whole = a_run(db, job, status="success", at=T0 + timedelta(hours=1), objects=full)
    db.commit()

    runs = checked_runs(api)
    assert runs[short.id]["drift"] is None  # two earlier runs are not "every run of 14 days"
    assert runs[whole.id]["drift"] is None


def sized_history(db: Session, job, sizes: list[int], status: str = "success") -> None:
    for day, size in enumerate(sizes, start=1):
        a_run(db, job, status=status, at=T0 - timedelta(days=day), size_bytes=size).reviewed_at = T0


def test_a_success_that_backs_up_under_a_tenth_of_the_usual_size_is_success_but(db: Session, api) -> None:
    job = a_job(db)
    sized_history(db, job, [30 * GB, 29 * GB, 31 * GB, 40 * GB])
    small = a_run(db, job, status="success", size_bytes=round(1.2 * GB))
    db.commit()

    drift = checked_runs(api)[small.id]["drift"]
    assert drift["summary"] == "Success, but backed up 1.2 GB, 3% of the usual 30 GB."
    assert (drift["size_bytes"], drift["usual_size_bytes"]) == (round(1.2 * GB), round(30.5 * GB))
    assert drift["missing_objects"] == []


def test_a_success_that_backs_up_nothing_is_success_but_even_without_history(db: Session, api) -> None:
    job, always_empty = a_job(db), a_job(db)
    empty = a_run(db, job, status="success", size_bytes=0)
    sized_history(db, always_empty, [0, 0, 0])
    usual_empty = a_run(db, always_empty, status="success", size_bytes=0)
    db.commit()

    runs = checked_runs(api)
    assert runs[empty.id]["drift"]["summary"] == "Success, but backed up 0 B."
    assert runs[usual_empty.id]["drift"] is None  # nothing is this job's usual (e.g. nothing changed)


def test_no_size_drift_for_a_usual_size_a_thin_history_or_no_size(db: Session, api) -> None:
    usual, thin, unsized = a_job(db), a_job(db), a_job(db)
    sized_history(db, usual, [30 * GB, 31 * GB, 29 * GB])
    fine = a_run(db, usual, status="success", size_bytes=4 * GB)  # 13%: a small day, not drift
    sized_history(db, thin, [30 * GB, 30 * GB])
    early = a_run(db, thin, status="success", size_bytes=GB)  # two earlier runs are no median
    sized_history(db, unsized, [30 * GB, 30 * GB, 30 * GB])
    silent = a_run(db, unsized, status="success")  # the report states no size
    db.commit()

    runs = checked_runs(api)
    assert [runs[run.id]["drift"] for run in (fine, early, silent)] == [None] * 3


def test_failed_runs_stating_nothing_do_not_lower_the_usual_size(db: Session, api) -> None:
    job = a_job(db)
    sized_history(db, job, [30 * GB, 30 * GB, 30 * GB])
    sized_history(db, job, [0, 0, 0, 0], status="failed")  # counted, the median would be 0 B
    small = a_run(db, job, status="success", size_bytes=GB)
    db.commit()

    assert checked_runs(api)[small.id]["drift"]["usual_size_bytes"] == 30 * GB


def test_a_missing_object_and_a_small_size_are_told_in_one_line(db: Session, api) -> None:
    job = a_job(db)
    full = (ObjectResult("VM-A", "success", None), ObjectResult("VM-B", "success", None))
    for day in range(1, 5):
        a_run(
            db, job, status="success", at=T0 - timedelta(days=day), objects=full, size_bytes=10 * GB
        ).reviewed_at = T0
    short = a_run(db, job, status="success", objects=full[:1], size_bytes=200 * MB)
    db.commit()

    drift = checked_runs(api)[short.id]["drift"]
    assert drift["summary"] == (
        "Success, but VM-B is missing: every run of the last 14 days had it; "
        "backed up 200 MB, 1% of the usual 10 GB."
    )


def test_sizes_read_as_the_reports_write_them() -> None:
    assert [readable_size(n) for n in (0, 812, 5 * MB, round(1.25 * GB), 30 * GB, 3 * 1024 * GB)] == [
        "0 B",
        "812 B",
        "5.0 MB",
        "1.2 GB",
        "30 GB",
        "3.0 TB",
    ]
