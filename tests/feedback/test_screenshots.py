"""Screenshots: uploaded several at once, judged by their bytes, all stored or none, served so
that a browser can only show them; thumbnails made on upload."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared_code.db.models import AuditLog
from shared_code.feedback.images import THUMBNAIL_BOX
from tests.feedback.conftest import concurrently, post_item, stored, upload
from tests.feedback.images import HTML_PAGE, SVG_WITH_SCRIPT, TEXT, image, multipart, noisy_png, polyglot_png

MB = 1024 * 1024


def test_two_screenshots_are_stored_with_thumbnails_and_served_as_images_only(
    db: Session, api, people
) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    response = upload(
        api,
        f"/api/feedback/{item['id']}/attachments",
        alice,
        ("filter.png", image("PNG", (1600, 900)), "image/png"),
        ("zoomed in.jpg", image("JPEG", (800, 600)), "image/jpeg"),
    )
    assert response.status == 201, response.body
    shots = response.json()["attachments"]
    assert [(s["file_name"], s["content_type"], s["width"], s["height"]) for s in shots] == [
        ("filter.png", "image/png", 1600, 900),
        ("zoomed in.jpg", "image/jpeg", 800, 600),
    ]
    detail = api.get(f"/api/feedback/{item['id']}", role="Viewer").json()
    assert [a["id"] for a in detail["attachment_list"]] == [s["id"] for s in shots]
    assert detail["attachments"] == 2

    full = api.get(f"/api/feedback/{item['id']}/attachments/{shots[1]['id']}", role="Viewer")
    assert full.status == 200
    assert full.headers["content-type"].startswith("image/jpeg")
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert full.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert full.headers["Content-Disposition"] == (
        "inline; filename=\"zoomed in.jpg\"; filename*=UTF-8''zoomed%20in.jpg"
    )
    assert Image.open(io.BytesIO(full.body)).size == (800, 600)

    thumbnail = api.get(f"/api/feedback/{item['id']}/attachments/{shots[0]['id']}/thumbnail", role="Viewer")
    assert thumbnail.headers["content-type"].startswith("image/png")
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    small = Image.open(io.BytesIO(thumbnail.body))
    assert small.size == (400, 225)  # 1600×900 into 400×300, proportions kept
    assert small.size[0] <= THUMBNAIL_BOX[0] and small.size[1] <= THUMBNAIL_BOX[1]
    assert len(thumbnail.body) < len(image("PNG", (1600, 900))) * 10


def test_gif_and_webp_are_accepted_whatever_name_and_declared_type_say(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    response = upload(
        api,
        f"/api/feedback/{item['id']}/attachments",
        alice,
        ("anim.bin", image("GIF"), "application/octet-stream"),
        ("shot.png", image("WEBP"), "image/png"),
    )
    assert response.status == 201, response.body
    assert [s["content_type"] for s in response.json()["attachments"]] == ["image/gif", "image/webp"]


def refused(response) -> list[str]:
    assert response.status == 422, response.body
    error = response.json()["error"]
    assert error["code"] == "upload_refused"
    assert error["message"].startswith("Nothing was stored: ")
    return [detail["message"] for detail in error["details"]]


def test_a_text_file_named_shot_png_is_refused_with_its_reason_and_nothing_is_stored(
    db: Session, api, people
) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    before = stored(db)
    response = upload(
        api,
        f"/api/feedback/{item['id']}/attachments",
        alice,
        ("good.png", image(), "image/png"),
        ("shot.png", TEXT, "image/png"),
    )
    assert refused(response) == [
        "shot.png is not a PNG, JPEG, GIF or WebP image: its bytes are text, whatever its name or type says"
    ]
    assert response.json()["error"]["details"][0]["file"] == "shot.png"
    assert stored(db) == before  # not even good.png
    assert before["feedback_attachments"] == before["feedback_attachment_contents"] == 0


def test_a_6_mb_png_is_refused_with_its_size_and_nothing_is_stored(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    big = noisy_png(6 * MB)
    assert big.startswith(b"\x89PNG") and len(big) > 6 * MB
    response = upload(api, f"/api/feedback/{item['id']}/attachments", alice, ("huge.png", big, "image/png"))
    [message] = refused(response)
    assert message == "huge.png is 6.0 MB; a screenshot may be at most 5.0 MB"
    assert stored(db)["feedback_attachments"] == 0
    assert stored(db)["feedback_attachment_contents"] == 0


def test_an_eleventh_screenshot_is_refused_and_nothing_of_that_upload_is_stored(
    db: Session, api, people
) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    path = f"/api/feedback/{item['id']}/attachments"
    eleven = [(f"shot-{n:02}.png", image(color=(n * 20, 0, 0)), "image/png") for n in range(1, 12)]
    response = upload(api, path, alice, *eleven)
    assert refused(response) == [
        "shot-11.png would be screenshot 11 of this feedback item; it may have at most 10"
    ]
    assert stored(db)["feedback_attachments"] == 0

    assert upload(api, path, alice, *eleven[:10]).status == 201  # ten are fine
    response = upload(api, path, alice, eleven[10])
    assert refused(response) == [
        "shot-11.png would be screenshot 11 of this feedback item; it may have at most 10"
    ]
    counts = stored(db)
    assert counts["feedback_attachments"] == counts["feedback_attachment_contents"] == 10


def test_markup_that_claims_to_be_a_png_is_refused(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    response = upload(
        api,
        f"/api/feedback/{item['id']}/attachments",
        alice,
        ("logo.png", SVG_WITH_SCRIPT, "image/png"),
        ("page.png", HTML_PAGE, "image/png"),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + HTML_PAGE, "image/png"),  # the signature, then no image
    )
    assert refused(response) == [
        "logo.png is not a PNG, JPEG, GIF or WebP image: its bytes are markup (HTML, SVG or XML), "
        "whatever its name or type says",
        "page.png is not a PNG, JPEG, GIF or WebP image: its bytes are markup (HTML, SVG or XML), "
        "whatever its name or type says",
        "fake.png starts like a PNG image but is not a readable one",
    ]
    assert stored(db)["feedback_attachments"] == 0


def test_dimensions_are_read_from_the_image_and_bounded(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    vast = image("PNG", (8000, 6000))  # one colour: a few KB, but 48 million pixels
    assert len(vast) < MB
    response = upload(api, f"/api/feedback/{item['id']}/attachments", alice, ("vast.png", vast, "image/png"))
    assert refused(response) == [
        "vast.png is 8000×6000 pixels; a screenshot may have at most 40,000,000 pixels"
    ]
    truncated = image("PNG", (300, 300), (1, 2, 3))[:-40]
    response = upload(
        api, f"/api/feedback/{item['id']}/attachments", alice, ("cut.png", truncated, "image/png")
    )
    assert refused(response) == ["cut.png starts like a PNG image but is not a readable one"]


def test_a_polyglot_that_passes_the_byte_check_is_served_as_an_image_only(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    response = upload(
        api, f"/api/feedback/{item['id']}/attachments", alice, ("innocent.html", polyglot_png(), "text/html")
    )
    assert response.status == 201, response.body
    [shot] = response.json()["attachments"]
    served = api.get(f"/api/feedback/{item['id']}/attachments/{shot['id']}", role="Viewer")
    assert served.body == polyglot_png()
    assert served.headers["content-type"].startswith("image/png")  # never the declared text/html
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["Content-Disposition"].startswith('inline; filename="innocent.html"')


def test_a_file_name_cannot_break_out_of_the_content_disposition(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    name = "../../ship; it=\u202egnp.html é.png"
    response = upload(api, f"/api/feedback/{item['id']}/attachments", alice, (name, image(), "image/png"))
    [shot] = response.json()["attachments"]
    assert shot["file_name"] == "ship; it=gnp.html é.png"  # the folder and the control character gone
    served = api.get(f"/api/feedback/{item['id']}/attachments/{shot['id']}", role="Viewer")
    assert served.headers["Content-Disposition"] == (
        "inline; filename=\"ship_ it_gnp.html _.png\"; filename*=UTF-8''ship%3B%20it%3Dgnp.html%20%C3%A9.png"
    )


def test_only_the_author_or_an_admin_adds_screenshots(db: Session, api, people) -> None:
    item = post_item(api, people("alice"))
    path = f"/api/feedback/{item['id']}/attachments"
    response = upload(api, path, people("bob"), ("x.png", image(), "image/png"))
    assert response.status == 403
    assert upload(api, path, people("carol", "Admin"), ("x.png", image(), "image/png")).status == 201


def test_screenshots_on_a_reply(db: Session, api, people) -> None:
    alice, bob = people("alice"), people("bob")
    item = post_item(api, alice)
    reply = api.post(
        f"/api/feedback/{item['id']}/replies", role=None, headers=bob, body={"body": "Same here"}
    ).json()
    response = upload(
        api,
        f"/api/feedback/{item['id']}/replies/{reply['id']}/attachments",
        bob,
        ("mine.png", image(), "image/png"),
    )
    assert response.status == 201, response.body
    detail = api.get(f"/api/feedback/{item['id']}", role="Viewer").json()
    assert detail["attachment_list"] == []
    assert [a["file_name"] for a in detail["reply_list"][0]["attachments"]] == ["mine.png"]
    assert (
        upload(
            api,
            f"/api/feedback/{item['id']}/replies/{reply['id']}/attachments",
            alice,
            ("x.png", image(), "image/png"),
        ).status
        == 403
    )


def test_the_upload_route_takes_multipart_only_and_names_what_it_cannot_use(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    path = f"/api/feedback/{item['id']}/attachments"
    as_json = api.post(path, role=None, headers=alice, body={"files": []})
    assert as_json.status == 415
    assert "multipart/form-data" in as_json.json()["error"]["message"]
    body, headers = multipart(("x.png", image(), "image/png"), field="file")
    wrong_field = api.post(path, role=None, headers={**alice, **headers}, body=body)
    assert wrong_field.status == 400
    assert wrong_field.json()["error"]["details"] == [{"field": "body.file", "message": "unexpected field"}]
    no_boundary = api.post(
        path, role=None, headers={**alice, "content-type": "multipart/form-data"}, body=body
    )
    assert no_boundary.status == 400
    empty = upload(api, path, alice)
    assert empty.status == 422
    assert empty.json()["error"]["details"][0]["field"] == "body.files"
    # A JSON route still refuses a form: multipart is for upload routes only.
    body, headers = multipart(("x.png", image(), "image/png"))
    assert api.post("/api/feedback", role=None, headers={**alice, **headers}, body=body).status == 415
    assert stored(db)["feedback_attachments"] == 0


def test_an_upload_larger_than_every_screenshot_together_is_413(db: Session, api, people) -> None:
    alice = people("alice")
    item = post_item(api, alice)
    body, headers = multipart(("x.png", b"\0" * (51 * MB), "image/png"))
    response = api.post(
        f"/api/feedback/{item['id']}/attachments", role=None, headers={**alice, **headers}, body=body
    )
    assert response.status == 413


def test_a_screenshot_is_found_under_its_own_item_only_and_its_upload_is_audited(
    db: Session, api, people
) -> None:
    alice = people("alice")
    item, other = post_item(api, alice), post_item(api, alice)
    [shot] = upload(
        api, f"/api/feedback/{item['id']}/attachments", alice, ("a.png", image(), "image/png")
    ).json()["attachments"]
    assert api.get(f"/api/feedback/{item['id']}/attachments/{shot['id']}", role="Viewer").status == 200
    assert api.get(f"/api/feedback/{other['id']}/attachments/{shot['id']}", role="Viewer").status == 404
    assert api.delete(f"/api/feedback/{other['id']}/attachments/{shot['id']}", role="Admin").status == 404
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "upload")).one()
    assert (entry.entity_type, entry.entity_id, entry.actor) == (
        "feedback_attachment",
        str(shot["id"]),
        "alice@example.test",
    )
    assert entry.details == {
        "item_id": item["id"],
        "file_name": "a.png",
        "content_type": "image/png",
        "size_bytes": shot["size_bytes"],
    }


def test_two_uploads_at_once_cannot_pass_the_limit_together(db: Session, api, people) -> None:
    """The item's row is locked while an upload counts its screenshots: of two uploads of six sent
    at the same moment, one is stored and the other refused whole."""
    alice = people("alice")
    item = post_item(api, alice)
    path = f"/api/feedback/{item['id']}/attachments"

    def six(batch: str):
        files = [(f"{batch}-{n}.png", image(color=(n * 30, 0, 0)), "image/png") for n in range(6)]
        return lambda: upload(api, path, alice, *files)

    responses = concurrently([six("first"), six("second")])
    assert sorted(r.status for r in responses) == [201, 422]
    counts = stored(db)
    assert counts["feedback_attachments"] == counts["feedback_attachment_contents"] == 6
