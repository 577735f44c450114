"""A folder of .eml files through the same pipeline: `python -m shared_code import-mail DIR`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from shared_code.cli import SAMPLE_MAILBOX, main
from shared_code.db.models import AuditLog, IngestionFailure, JobRun, MailMessage
from tests.mail.mails import NAKIVO, VEEAM, job_for, mime


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_the_sample_mailbox_imports_with_a_summary_and_again_as_duplicates(db, capsys) -> None:
    files = [path for path in SAMPLE_MAILBOX.rglob("*") if path.is_file()]
    total = sum(1 for path in files if path.suffix.lower() == ".eml")
    others = len(files) - total
    assert main(["import-mail", str(SAMPLE_MAILBOX)]) == 0
    output = capsys.readouterr()
    assert f"[{total}/{total}]" in output.err  # progress
    summary = output.out.strip()
    counts = dict(reversed(part.split(" ")) for part in summary.split(": ", 1)[1].split(", "))
    assert set(counts) == {"parsed", "unparsed", "errors", "duplicates", "skipped"}
    assert int(counts["parsed"]) > 0 and int(counts["unparsed"]) > 0 and counts["duplicates"] == "0"
    assert sum(int(n) for n in counts.values()) == len(files)  # every file seen, once
    assert counts["skipped"] == str(others)
    assert db.scalar(select(func.count()).select_from(MailMessage)) == total

    assert main(["import-mail", str(SAMPLE_MAILBOX)]) == 0  # idempotent, e.g. every `make run`
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(f"0 parsed, 0 unparsed, 0 errors, {total} duplicates, {others} skipped")
    )
    assert db.scalar(select(func.count()).select_from(MailMessage)) == total


def test_duplicates_are_recognised_by_message_id_else_by_content(db, tmp_path, capsys) -> None:
    job_for(db, VEEAM)
    report = mime(VEEAM, message_id="<same@example.test>")
    write(tmp_path, "a.eml", report)
    write(tmp_path, "nested/b.eml", report.replace(b"Subject:", b"X-Exported-By: archive\nSubject:"))
    anonymous = b"\n".join(line for line in mime(NAKIVO).split(b"\n") if not line.startswith(b"Message-ID"))
    write(tmp_path, "c.eml", anonymous)
    write(tmp_path, "d.eml", anonymous)
    write(tmp_path, "notes.txt", b"not mail")
    assert main(["import-mail", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("2 parsed, 0 unparsed, 0 errors, 2 duplicates, 1 skipped")
    assert db.scalar(select(func.count()).select_from(JobRun)) == 1  # the Veeam job is known
    sources = set(db.scalars(select(MailMessage.source)))
    assert sources == {"directory"}


def test_mail_files_are_found_whatever_the_case_of_their_extension(db, tmp_path, capsys) -> None:
    write(tmp_path, "18_UPPER.EML", mime(VEEAM))
    write(tmp_path, "mixed.Eml", mime(NAKIVO))
    write(tmp_path, "notes.EMLX", b"not mail")
    assert main(["import-mail", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("2 parsed, 0 unparsed, 0 errors, 0 duplicates, 1 skipped")
    assert db.scalar(select(func.count()).select_from(MailMessage)) == 2


def test_an_unreadable_file_is_counted_and_recorded(db, tmp_path, capsys) -> None:
    write(tmp_path, "ok.eml", mime(VEEAM))
    (tmp_path / "broken.eml").symlink_to(tmp_path / "missing-target.eml")
    assert main(["import-mail", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("1 parsed, 0 unparsed, 1 errors, 0 duplicates, 0 skipped")
    failure = db.scalars(select(IngestionFailure)).one()
    assert (failure.source, failure.state, failure.message_ref) == (
        "directory",
        "permanent",
        str(tmp_path / "broken.eml"),
    )


def test_a_missing_directory_is_one_line_and_exit_code_2(db, tmp_path, capsys) -> None:
    assert main(["import-mail", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_an_archive_booked_as_history_is_reviewed_by_import_and_leaves_run_checks_empty(
    db, tmp_path, capsys, api
) -> None:
    job_for(db, VEEAM)
    db.commit()
    for day in range(1, 4):
        write(tmp_path, f"{day}.eml", mime(VEEAM, message_id=f"<veeam-{day}@example.test>"))
    write(tmp_path, "unknown-job.eml", mime(NAKIVO))

    assert main(["import-mail", str(tmp_path), "--as-reviewed"]) == 0

    output = capsys.readouterr()
    assert "mails/s" in output.err and "s left" in output.err
    assert output.out.strip().endswith(
        "4 parsed, 0 unparsed, 0 errors, 0 duplicates, 0 skipped (booked as reviewed by import)"
    )
    runs = db.scalars(select(JobRun)).all()
    assert len(runs) == 3 and {(r.reviewed_by, r.reviewed_at is not None) for r in runs} == {("import", True)}
    assert api.get("/api/run-checks").json()["customers"] == []
    actors = db.scalars(select(AuditLog.actor).where(AuditLog.action == "review")).all()
    assert actors == ["import"] * 3
