"""A customer's report as a PDF a customer can read (reportlab, imported with this module, which
loads on the first PDF only): the MSP and the customer, the period, the weekly success rate as a
chart, the per-job table, the missed runs and tickets, the overrides with their reasons, the snoozed runs, and how
the figures are defined."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared_code.reports.report import CustomerReport

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
HEADER = colors.HexColor("#343a40")
STRIPE = colors.HexColor("#f1f3f5")
BAR = colors.HexColor("#198754")
LABELLED_WEEKS = 12  # more weeks than this and the chart names only some
CELL_PADDING = 12  # a table cell's left and right padding (6 pt each)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def render_pdf(report: CustomerReport) -> bytes:
    out = io.BytesIO()
    zone = ZoneInfo(report.period.timezone)
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Backup report {report.customer.name} {_period(report)}",
        author=report.msp_name,
    )
    styles = _Styles()
    story: list[Any] = [
        Paragraph(escape(report.msp_name), styles.small),
        Paragraph(f"Backup report: {escape(report.customer.name)}", styles.title),
        Paragraph(f"Period {_period(report)} (days in {escape(report.period.timezone)})", styles.body),
        Spacer(1, 4 * mm),
        Paragraph(_summary(report), styles.body),
        Spacer(1, 4 * mm),
        Paragraph("Success rate per week", styles.heading),
        _weekly_chart(report),
        Paragraph("Jobs", styles.heading),
        _jobs_table(report, styles),
    ]
    story += _section(
        "Missed runs",
        [[_local(m.run_at, zone), m.job_name] for m in report.missed_runs],
        ["Expected at", "Job"],
        styles,
        widths=(0.3, 0.7),
    )
    story += _section(
        "Tickets",
        [
            [
                t.ticket_code,
                ", ".join(t.jobs),
                t.description,
                _local(t.opened_at, zone),
                _resolved(t.hours_to_resolve),
            ]
            for t in report.tickets
        ]
        + [
            [
                f"PSA {p.ticket_number or '?'}",
                ", ".join(p.jobs),
                _psa_note(p),
                _local(p.opened_at, zone),
                _resolved(p.hours_to_resolve),
            ]
            for p in report.psa_tickets
        ],
        ["Ticket", "Jobs", "Description", "Opened", "Resolved after"],
        styles,
        widths=(0.16, 0.22, 0.32, 0.16, 0.14),
    )
    story += _section(
        "Overrides in force",
        [
            [
                o.job_name or o.scope,
                f"{o.match} → {o.result_status}",
                o.reason,
                o.created_by,
                _window(o.active_from, o.active_until or o.deleted_at, zone),
            ]
            for o in report.overrides
        ],
        ["Applies to", "Rule", "Reason", "Made by", "In force"],
        styles,
        widths=(0.16, 0.22, 0.3, 0.12, 0.2),
    )
    story += _section(
        "Snoozed runs",
        [
            [
                s.job_name,
                _local(s.run_at, zone),
                s.status,
                s.reason,
                f"{s.snoozed_by}, {_local(s.snoozed_at, zone)}",
            ]
            for s in report.snoozes
        ],
        ["Job", "Run", "Status", "Why", "Snoozed by"],
        styles,
        widths=(0.2, 0.16, 0.1, 0.34, 0.2),
    )
    story.append(Paragraph("How the figures are defined", styles.heading))
    story += [
        Paragraph(f"<b>{escape(name.replace('_', ' '))}</b>: {escape(text)}", styles.small)
        for name, text in report.definitions.items()
    ]
    story.append(Paragraph(f"Generated {_local(report.generated_at, zone)} by Backupchecks.", styles.small))
    document.build(story)
    return out.getvalue()


class _Styles:
    def __init__(self) -> None:
        sheet = getSampleStyleSheet()
        self.title = sheet["Title"]
        self.heading = ParagraphStyle("heading", parent=sheet["Heading2"], spaceBefore=8, spaceAfter=4)
        self.body = sheet["BodyText"]
        self.small = ParagraphStyle("small", parent=sheet["BodyText"], fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", parent=sheet["BodyText"], fontSize=8, leading=9.5)
        self.head = ParagraphStyle(
            "head", parent=self.cell, textColor=colors.white, fontName="Helvetica-Bold"
        )


def _period(report: CustomerReport) -> str:
    return f"{report.period.first_day.isoformat()} to {report.period.last_day.isoformat()}"


def _summary(report: CustomerReport) -> str:
    t = report.totals
    return (
        f"<b>Success rate {percent(t.success_rate)}</b>: {t.successful_runs} of {t.expected_runs} expected runs "
        f"succeeded ({t.runs.success} successful, {t.runs.warning} with warnings, {t.runs.failed} failed, "
        f"{t.runs.missed} missed)."
    )


def _weekly_chart(report: CustomerReport) -> Drawing:
    height = 45 * mm
    drawing = Drawing(WIDTH, height)
    if not report.weeks:
        drawing.add(String(0, height / 2, "No runs were expected in this period.", fontSize=9))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 18, WIDTH - 40, height - 26
    chart.data = [[round((w.success_rate or 0) * 100, 1) for w in report.weeks]]
    every = -(-len(report.weeks) // LABELLED_WEEKS)  # a year's 53 weeks: every fifth is named
    chart.categoryAxis.categoryNames = [
        w.week_start.strftime("%d %b") if n % every == 0 else "" for n, w in enumerate(report.weeks)
    ]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 25
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d %%"
    chart.bars[0].fillColor = BAR
    if len(report.weeks) <= LABELLED_WEEKS:
        chart.barLabelFormat = "%.0f"
        chart.barLabels.fontSize = 6
        chart.barLabels.nudge = 5
    drawing.add(chart)
    return drawing


def _jobs_table(report: CustomerReport, styles: _Styles) -> Table:
    head = ["Job", "Success", "Warning", "Failed", "Missed", "Success rate", "Longest failing streak"]
    rows = [
        [
            job.job_name + (" (informational)" if job.informational else ""),
            job.runs.success,
            job.runs.warning,
            job.runs.failed,
            job.runs.missed,
            "–" if job.informational else percent(job.success_rate),
            (
                f"{s.days} d, {s.first_day.isoformat()}"
                + (f" to {s.last_day.isoformat()}" if s.days > 1 else "")
            )
            if (s := job.longest_failing_streak)
            else "",
        ]
        for job in report.jobs
    ]
    return _table(head, rows, styles, (0.25, 0.1, 0.1, 0.1, 0.1, 0.11, 0.24))


def _section(
    title: str, rows: list[list[Any]], head: list[str], styles: _Styles, *, widths: tuple[float, ...]
) -> list[Any]:
    if not rows:
        return [Paragraph(title, styles.heading), Paragraph("None in this period.", styles.small)]
    return [Paragraph(title, styles.heading), _table(head, rows, styles, widths)]


def _table(head: list[str], rows: list[list[Any]], styles: _Styles, widths: tuple[float, ...]) -> Table:
    columns = [w * WIDTH for w in widths]
    cells = [[Paragraph(escape(h), styles.head) for h in head]]
    cells += [
        [_cell(str(value), width, styles) for value, width in zip(row, columns, strict=True)] for row in rows
    ]
    table = Table(cells, colWidths=columns, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 1), (-1, -1), styles.cell.fontName, styles.cell.fontSize, styles.cell.leading),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dee2e6")),
            ]
        )
    )
    return table


def _cell(text: str, width: float, styles: _Styles) -> Any:
    """Text that fits its column as it is; a wrapping paragraph only when it must (paragraphs cost
    a line-breaking pass each, and a year's report has a thousand rows)."""
    if (
        "\n" not in text
        and stringWidth(text, styles.cell.fontName, styles.cell.fontSize) <= width - CELL_PADDING
    ):
        return text
    return Paragraph(escape(text), styles.cell)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _resolved(hours: float | None) -> str:
    return "open" if hours is None else f"{hours:.1f} h"


def _psa_note(ticket: Any) -> str:
    origin = {"psa": "resolved in the PSA", "backupchecks": "resolved from Backupchecks"}.get(
        ticket.resolution_origin or "", ""
    )
    return "; ".join(part for part in (origin, "deleted in the PSA" if ticket.deleted_in_psa else "") if part)


def _window(start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    return f"from {_local(start, zone)}" + (f" until {_local(end, zone)}" if end else ", no end")
