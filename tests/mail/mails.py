"""Sample mail for the ingestion tests: corpus reports with a fresh Message-ID (and date) each."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from shared_code.db.models import Customer, Job
from shared_code.sample_morning import redated
from tests.support.factories import T0

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
_serial = itertools.count(1)

VEEAM = "veeam_backup_warning_one_vm"  # 4 objects, status warning, job "SQL Servers"
NAKIVO = "nakivo_backup_warning"  # 2 objects
DSM_NOTICE = "synology_dsm_autoupdate_cancelled_en"  # informational
NEWSLETTER = "noise_newsletter"  # no parser claims it


def mime(name: str, *, received: datetime | None = None, message_id: str | None = None) -> bytes:
    """The corpus mail ``name`` as a new mail: its own Message-ID and Date (a later run of the job)."""
    serial = next(_serial)
    moment = received or T0 + timedelta(minutes=serial)
    new_id = message_id or f"<test-{serial}-{name}@example.test>"
    return redated((CORPUS / f"{name}.eml").read_bytes(), moment, new_id)


def expected(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / f"{name}.json").read_text())


def job_for(db: Session, name: str, customer: str = "Customer A") -> Job:
    """The live job a corpus mail belongs to, with its customer (so the mail is booked, not in the Inbox)."""
    result = expected(name)
    sender = re.search(rb"(?im)^From:.*<([^>]+)>", (CORPUS / f"{name}.eml").read_bytes())
    assert sender is not None
    job = Job(
        customer=Customer(name=customer),
        from_address=sender.group(1).decode(),
        backup_software=result["software"],
        backup_type=result["backup_type"],
        job_name=result["job_name"],
    )
    db.add(job)
    db.commit()
    return job
