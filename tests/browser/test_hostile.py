"""Hostile text in a real browser: stored through the importer and the timeline's own form, it runs nowhere.

Every payload of the catalogue (tests/hostile.py) is stored, then the pages that show it
are loaded one by one with a dialog listener registered before each load. No dialog may
open (`alert(1)`), no injected element or htmx attribute may exist in the page, no request
may go where an injected `hx-get` or `hx-post` points, and the page may report no
Content-Security-Policy violation, console error or uncaught exception.
"""

import pytest
from playwright.sync_api import expect

from pacts.interchange import import_document
from pacts.models import Agreement, Source
from tests import hostile
from tests.browser.watch import assert_quiet, open_page, sign_in
from tests.documents import gsomia_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What an injected payload would have put into the page, had it been markup.
INJECTED = 'img[src="x"], svg[onload], div[hx-post="/x"], [hx-get="/admin/"], script:not([src])'
TYPED = '"><img src=x onerror=alert(1)> typed in the form'


@pytest.fixture
def hostile_data(db, make_user):
    admin = make_user("admin")
    documents = [
        hostile.with_payload(gsomia_document(), payload, f"p{index}")
        for index, payload in enumerate(hostile.MARKUP.values())
    ]
    import_document(hostile.merged(documents), user=admin, origin=hostile.MARKUP["script"] + ".json")
    agreement = Agreement.objects.get(slug=documents[0]["agreements"][0]["slug"])
    return admin, agreement


def test_stored_payloads_open_no_dialog_and_break_no_policy_on_any_page(browser, live_server, hostile_data):
    admin, agreement = hostile_data
    page = sign_in(open_page(browser), live_server, admin)
    page.set_default_timeout(10_000)
    dialogs, stray = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "request", lambda request: request.url.split("?")[0].endswith(("/x", "/admin/")) and stray.append(request.url)
    )

    # One more payload, typed into the timeline's own form as a person would.
    page.goto(f"{live_server.url}{agreement.get_absolute_url()}")
    events = page.locator("ol.lanes li.event")
    shown = events.count()
    page.get_by_role("link", name="+ Add a step (joint)").click()
    panel = page.locator("#editor #event-form-panel")
    panel.get_by_label("Kind").select_option("negotiation-round")
    panel.get_by_label("Summary").fill(TYPED)
    panel.get_by_role("button", name="Save").click()
    expect(events).to_have_count(shown + 1)

    source = Source.objects.filter(key__endswith="-p0").first()
    pages = [
        agreement.get_absolute_url(),
        "/agreements/",
        "/agreements/?q=alert",
        "/sources/",
        source.get_absolute_url(),
        "/worklist/",
        f"/agreements/{agreement.slug}/history/",
        "/",
        "/expectations/",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
        assert page.locator(INJECTED).count() == 0, path
        assert page.get_by_text(hostile.MARKUP["script"]).count() + page.get_by_text(TYPED).count() > 0, path
    assert not dialogs, dialogs
    assert not stray, stray
    assert_quiet(page)
