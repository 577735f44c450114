"""The corpus rules on variants the fixtures do not show: status precedence, objects, names."""

from __future__ import annotations

from shared_code.parsers import parse_mail
from tests.parsers.mails import build_mail, field_lines, field_table, veeam_html

VBR_FOOTER = "Veeam Backup & Replication 12.1.1.56"


def parsed(raw: bytes) -> dict[str, object]:
    outcome = parse_mail(raw)
    assert outcome.kind == "parsed", outcome
    return outcome.corpus_result()


def test_veeam_without_a_stated_result_takes_the_worst_object() -> None:
    html = veeam_html(
        "Backup job: Daily", "", [("VM1", "Success", ""), ("VM2", "Warning", "low space")], VBR_FOOTER
    )

    result = parsed(build_mail("[Success] Daily (2 VMs)", html=html))

    assert result["status"] == "warning"


def test_veeam_without_result_or_objects_falls_back_to_the_subject() -> None:
    html = veeam_html("Backup job: Daily", "", [], VBR_FOOTER)

    result = parsed(build_mail("[Failed] Daily (0 VMs)", html=html))

    assert (result["status"], result["objects"]) == ("failed", [])


def test_veeam_stated_success_beats_a_warning_object() -> None:
    html = veeam_html("Backup job: Daily", "Success", [("VM1", "Warning", "Retry succeeded")], VBR_FOOTER)

    result = parsed(build_mail("[Success] Daily (1 VMs)", html=html))

    assert result["status"] == "success"
    assert result["objects"] == [{"name": "VM1", "status": "warning", "message": "Retry succeeded"}]


def test_veeam_rows_without_a_known_status_are_no_objects() -> None:
    rows = [("VM1", "Success", ""), ("VM2", "Pending", ""), ("VM3", "Failed", "Error: x")]
    html = veeam_html("Replication job: DR", "Failed", rows, VBR_FOOTER)

    result = parsed(build_mail("[Failed] DR", html=html))

    assert [item["name"] for item in result["objects"]] == ["VM1", "VM3"]
    assert result["backup_type"] == "Replication Job"


def test_veeam_success_object_keeps_its_text() -> None:
    html = veeam_html("Backup job: Daily", "Success", [("VM1", "Success", "Processed 2 disks")], VBR_FOOTER)

    result = parsed(build_mail("[Success] Daily", html=html))

    assert result["objects"] == [{"name": "VM1", "status": "success", "message": "Processed 2 disks"}]


def test_veeam_kinds_beyond_the_corpus_keep_their_displayed_kind() -> None:
    html = veeam_html(
        "File Backup job: NAS shares", "Success", [("\\\\fs01\\data", "Success", "")], VBR_FOOTER
    )

    result = parsed(build_mail("[Success] NAS shares", html=html))

    assert (result["backup_type"], result["job_name"]) == ("File Backup Job", "NAS shares")


def test_veeam_job_description_mentioning_a_status_word_is_not_the_result() -> None:
    html = veeam_html(
        "Backup job: Daily",
        "Warning",
        [("VM1", "Warning", "")],
        VBR_FOOTER,
        description="Stopped on Sundays.",
    )

    assert parsed(build_mail("x", html=html))["status"] == "warning"


def test_veeam_newsletter_with_a_status_table_is_not_a_report() -> None:
    html = "<h1>Success stories</h1><table><tr><td>Name</td><td>Status</td></tr><tr><td>Job</td><td>Success</td></tr></table>"

    assert parse_mail(build_mail("Veeam news", html=html)).kind == "unparsed"


def test_synology_result_sentence_beats_the_subject() -> None:
    text = "Dear user,\n\nThe backup task Offsite on NAS01 was partially completed.\n\n" + field_lines(
        [("Task name", "Offsite"), ("Warning", "Some files were skipped.")]
    )

    result = parsed(build_mail("[NAS01] Hyper Backup - Backup task Offsite on NAS01 completed", text=text))

    assert result["status"] == "warning"
    assert result["objects"] == [
        {"name": "NAS01", "status": "warning", "message": "Some files were skipped."}
    ]


def test_synology_task_name_with_status_words_and_prepositions() -> None:
    task = "Failed disks on Sunday"
    text = f"Dear user,\n\nThe backup task {task} on NAS01 has completed successfully.\n\nTask name: {task}\n"

    result = parsed(build_mail(f"[NAS01] Hyper Backup - Backup task {task} on NAS01 completed", text=text))

    assert (result["job_name"], result["status"]) == (task, "success")
    assert result["objects"][0]["name"] == "NAS01"


def test_synology_hyper_backup_without_a_sentence_takes_the_nas_from_the_subject_tag() -> None:
    text = field_lines([("Task name", "Offsite"), ("Error", "Destination offline.")])

    result = parsed(build_mail("[NAS09] Hyper Backup - task failed", text=text))

    assert result["status"] == "failed"
    assert result["objects"] == [{"name": "NAS09", "status": "failed", "message": "Destination offline."}]


def test_synology_active_backup_notice_without_a_task_is_unparsed() -> None:
    text = "Dear user,\n\nThe storage of Active Backup for Business on NAS01 is almost full.\n"

    outcome = parse_mail(build_mail("[NAS01] Active Backup for Business - storage almost full", text=text))

    assert outcome.kind == "unparsed"


def test_qnap_severity_states_the_result() -> None:
    fields = [
        ("Severity level", "Warning"),
        ("NAS name", "NAS11"),
        ("Message", '[Hybrid Backup Sync] Backup job "Nightly" completed.'),
        ("Reason", "2 files skipped."),
    ]

    result = parsed(build_mail("NAS11: [Hybrid Backup Sync] Backup job completed.", html=field_table(fields)))

    assert (result["job_name"], result["status"]) == ("Nightly", "warning")
    assert result["objects"] == [{"name": "NAS11", "status": "warning", "message": "2 files skipped."}]


def test_qnap_without_nas_field_uses_the_subject_prefix() -> None:
    fields = [
        ("Severity level", "Information"),
        ("Message", '[Hybrid Backup Sync] Backup job "Nightly" completed.'),
    ]

    result = parsed(
        build_mail('NAS12: [Hybrid Backup Sync] Backup job "Nightly" completed.', text=field_lines(fields))
    )

    assert result["objects"] == [{"name": "NAS12", "status": "success", "message": None}]


def test_acronis_without_status_field_reads_the_headline() -> None:
    fields = [("Device", "SRV01"), ("Plan name", "Servers - Daily")]
    text = "Backup succeeded with warnings\n\n" + field_lines(fields)

    result = parsed(
        build_mail('Backup: "Servers - Daily" on SRV01', text=text, sender="Cyber Protect <n@example.com>")
    )

    assert result["status"] == "warning"


def test_nakivo_job_name_from_subject_and_status_from_objects() -> None:
    html = (
        "<p>NAKIVO Backup &amp; Replication</p>"
        "<table><tr><th>Name</th><th>Status</th><th>Errors and warnings</th></tr>"
        "<tr><td>VM1</td><td>Successful</td><td>-</td></tr><tr><td>VM2</td><td>Failed</td><td>Timeout</td></tr></table>"
    )

    result = parsed(build_mail('NAKIVO Backup & Replication: job "Replica of SQL"', html=html))

    assert (result["job_name"], result["status"], result["backup_type"]) == (
        "Replica of SQL",
        "failed",
        "Backup Job",
    )
    assert result["objects"][1] == {"name": "VM2", "status": "failed", "message": "Timeout"}


def test_hyper_backup_of_the_active_backup_package_is_a_hyper_backup_run() -> None:
    text = "Dear user,\n\nThe backup task Apps on NAS01 has completed successfully.\n\n" + field_lines(
        [("Task name", "Apps"), ("Applications", "Active Backup for Business, Synology Drive Server")]
    )

    result = parsed(
        build_mail("[NAS01] Hyper Backup - Backup task Apps on NAS01 completed successfully", text=text)
    )

    assert (result["backup_type"], result["objects"]) == (
        "Hyper Backup",
        [{"name": "NAS01", "status": "success", "message": None}],
    )


def test_a_banner_inside_the_objects_table_is_neither_object_nor_message() -> None:
    html = (
        "<p>NAKIVO Backup &amp; Replication</p>"
        + field_table([("Job name", "VMware Daily"), ("Job status", "Warning")])
        + "<table><tr><th>Name</th><th>Status</th><th>Errors and warnings</th></tr>"
        '<tr><td colspan="3">Job completed with warnings: repository almost full.</td></tr>'
        "<tr><td>VM1</td><td>Successful</td><td></td></tr><tr><td>VM2</td><td>Warning</td><td>CBT reset</td></tr>"
        "</table>"
    )

    result = parsed(
        build_mail('NAKIVO Backup & Replication: job "VMware Daily" completed with warnings', html=html)
    )

    assert result["objects"] == [
        {"name": "VM1", "status": "success", "message": None},
        {"name": "VM2", "status": "warning", "message": "CBT reset"},
    ]


def test_synology_notice_host_is_checked_against_subject_and_signature() -> None:
    text = (
        "Dear user,\n\nThe IP address 203.0.113.9 was blocked after 10 failed sign-in attempts. To unblock it, "
        "click on Security in Control Panel on NAS07.\n\nSincerely,\nSynology NAS07"
    )

    result = parsed(build_mail("[NAS07] Account Protection on NAS07", text=text))

    assert result["objects"] == [{"name": "NAS07", "status": "warning", "message": None}]


def test_a_status_taken_from_a_fallback_is_recorded_as_not_stated_outside_the_corpus_format() -> None:
    rows = [("VM1", "Success", ""), ("VM2", "Warning", "low space")]
    stated = parse_mail(
        build_mail("[Warning] Daily", html=veeam_html("Backup job: Daily", "Warning", rows, VBR_FOOTER))
    )
    derived = parse_mail(
        build_mail("[Warning] Daily", html=veeam_html("Backup job: Daily", "", rows, VBR_FOOTER))
    )
    assert stated.result is not None and derived.result is not None

    assert (stated.result.status_stated, derived.result.status_stated) == (True, False)
    # The same run for the corpus: the flag is for format drift, not part of the expected result.
    assert stated.corpus_result() == derived.corpus_result()
    assert "status_stated" not in derived.corpus_result()
