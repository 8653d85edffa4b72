"""The timeline in a real browser: lanes, inline editing, live refresh, filters, no-JS, accessibility, print.

GSOMIA comes from the shared `gsomia` fixture (tests/documents.py, six events). Every
flow ends by checking that the page logged no console error, threw nothing and broke
no Content-Security-Policy rule (see `watch.py`).
"""

import json
import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from pacts.models import Event
from tests.browser.watch import assert_quiet, axe_violations, open_page, sign_in
from tests.factories import EventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
GSOMIA_EVENTS = 6
LANES = "ol.lanes > li.event"
BADGE = "#live-header .badge"
# Long enough for a few one-second polls of the test settings' PACTS_REFRESH_SECONDS.
REFRESH_TIMEOUT_MS = 5000


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in contexts of their own (so two users can look at once), signed in as `user` if given."""
    opened = []

    def new_page(user=None, **context_options):
        page = open_page(browser, **context_options)
        opened.append(page)
        if user is not None:
            sign_in(page, live_server, user)
        return page

    yield new_page
    for page in opened:
        page.context.close()


def timeline_url(live_server, agreement):
    return f"{live_server.url}{agreement.get_absolute_url()}"


def set_marker(page):
    """A value that survives in-place swaps and dies with a full page load."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of updated in place"


def add_step(page, lane_index, *, kind, date, summary):
    """Click the lane's "+ Add a step …", check the lane is pre-selected, fill the form and save it."""
    button = page.locator("a.add-step").nth(lane_index)
    lane = re.search(r"lane=(\w+)", button.get_attribute("href")).group(1)
    button.click()
    form = page.locator("#editor #event-form-panel form")
    form.wait_for()
    assert form.locator("select[name=lane]").input_value() == lane
    form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=date]").fill(date)
    form.locator("textarea[name=summary], input[name=summary]").fill(summary)
    with page.expect_response(lambda r: r.request.method == "POST" and "/events/new/" in r.url) as response:
        form.get_by_role("button", name="Save").click()
    return response.value


def shown_event_ids(page):
    return page.locator(LANES).evaluate_all("items => items.map(item => item.id)")


def test_an_editor_creates_an_agreement_and_adds_steps_in_their_lanes_without_a_reload(
    live_server, new_page, make_user
):
    page = new_page(make_user("editor"))
    page.goto(f"{live_server.url}/agreements/new/")
    page.fill("#id_title", "Agreement on the Protection of Test Information")
    page.fill("#id_short_name", "Test Pact")
    page.fill("#id_slug", "kr-jp-test-pact")
    page.select_option("#id_kind", "intelligence-sharing")
    page.select_option("#id_legal_form", "executive-agreement")
    page.select_option("#id_entry_into_force", "on-notification")
    page.select_option("#id_party_a", "KR")
    page.select_option("#id_party_b", "JP")
    page.get_by_role("button", name="Create agreement").click()
    page.wait_for_url("**/agreements/kr-jp-test-pact/")
    assert page.locator(BADGE).inner_text() == "Proposed"
    set_marker(page)

    # Party B's button pre-selects Japan's lane; the step lands in the third column.
    response = add_step(page, 2, kind="cabinet-approval", date="2012-06-29", summary="Japan's cabinet approves.")
    assert response.status == 200
    page.locator(f"{LANES}.lane-b", has_text="Japan's cabinet approves.").wait_for()
    assert page.locator("#editor #event-form-panel").count() == 0, "the saved form should close"

    # The joint button; an occurred signature makes the header's badge say "Signed".
    add_step(page, 1, kind="signature", date="2012-07-02", summary="Signed in Tokyo.")
    page.locator(f"{LANES}.lane-joint", has_text="Signed in Tokyo.").wait_for()
    expect(page.locator(BADGE)).to_have_text("Signed")

    assert page.locator(LANES).count() == 2
    assert Event.objects.filter(agreement__slug="kr-jp-test-pact").count() == 2
    assert_not_reloaded(page)
    assert_quiet(page)


def test_a_bad_date_answers_422_with_the_error_beside_the_date_and_saves_nothing_until_corrected(
    live_server, new_page, make_user, gsomia
):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    set_marker(page)

    response = add_step(page, 1, kind="signature", date="2012-13-01", summary="Saved once corrected.")

    assert response.status == 422
    error = page.locator("#editor .field-date .errors")
    error.wait_for()
    assert "2012-13-01" in error.inner_text()
    assert "is not a date" in error.inner_text()
    assert page.locator("#editor .field-date").get_attribute("class").split().count("has-error") == 1
    # The form stays open with what was typed.
    assert page.locator("#editor [name=summary]").input_value() == "Saved once corrected."
    assert gsomia.events.count() == GSOMIA_EVENTS
    assert page.locator(LANES).count() == GSOMIA_EVENTS

    # The re-rendered form still posts in place: corrected, it saves.
    page.locator("#editor input[name=date]").fill("2012-12-01")
    with page.expect_response(lambda r: r.request.method == "POST" and "/events/new/" in r.url) as response:
        page.locator("#editor").get_by_role("button", name="Save").click()
    assert response.value.status == 200
    page.locator(f"{LANES}.lane-joint", has_text="Saved once corrected.").wait_for()
    assert gsomia.events.count() == GSOMIA_EVENTS + 1
    assert_not_reloaded(page)
    assert_quiet(page, expected_statuses=[422])


def edit_link(page, summary, name):
    return page.locator(LANES, has_text=summary).get_by_role("link", name=name, exact=True)


def test_an_editor_edits_a_step_in_the_editor_panel_and_can_open_it_again(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    set_marker(page)

    edit_link(page, "Talks on intelligence", "Edit").click()
    summary = page.locator("#editor #event-form-panel [name=summary]")
    expect(summary).to_have_value("Talks on intelligence and logistics pacts begin.")
    summary.fill("Talks on two pacts begin.")
    page.locator("#editor").get_by_role("button", name="Save").click()
    page.locator(f"{LANES}.lane-joint", has_text="Talks on two pacts begin.").wait_for()
    expect(page.locator("#event-form-panel")).to_have_count(0)

    # The panel opens again, for another edit or a new step, without a reload.
    page.locator("a.add-step").nth(1).click()
    page.locator("#editor #event-form-panel").wait_for()
    assert_not_reloaded(page)
    assert_quiet(page)


def test_editing_a_step_keeps_its_actors(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    who = page.locator(LANES, has_text="Cabinet approves the pact").locator(".who")
    assert who.inner_text() == "Cabinet · Lee Myung-bak"

    edit_link(page, "Cabinet approves the pact", "Edit").click()
    panel = page.locator("#event-form-panel")
    panel.locator("[name=summary]").fill("Cabinet quietly approves the pact.")
    actors = panel.locator("[name=actors]").input_value()
    panel.get_by_role("button", name="Save").click()
    page.locator(LANES, has_text="Cabinet quietly approves the pact.").wait_for()

    assert actors == "Lee Myung-bak"
    assert gsomia.events.get(summary="Cabinet quietly approves the pact.").actors == ["Lee Myung-bak"]
    edited = page.locator(LANES, has_text="Cabinet quietly approves the pact.").locator(".who")
    assert edited.inner_text() == "Cabinet · Lee Myung-bak"
    assert_quiet(page)


def test_marking_an_expectation_met_updates_its_lane_and_the_progress_in_place(
    live_server, new_page, make_user, gsomia
):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    set_marker(page)
    expected = page.locator(LANES, has_text="Japan's cabinet expected")
    expect(expected.locator(".flag-expected")).to_have_count(1)
    expect(page.locator("#live-header .party-progress.lane-b li.mark-overdue")).to_have_count(1)

    expected.get_by_role("button", name="Mark met").click()

    expect(expected.locator(".flag-expected")).to_have_count(0)
    expect(expected.locator(".flag-overdue")).to_have_count(0)
    expect(page.locator("#live-header .party-progress.lane-b li.mark-done")).to_have_count(1)
    assert gsomia.events.get(summary__startswith="Japan's cabinet expected").status == "occurred"
    assert_not_reloaded(page)
    assert_quiet(page)


def test_deleting_a_step_asks_for_confirmation_then_removes_it_in_place(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    set_marker(page)
    notice = page.locator(LANES, has_text="Seoul notifies Tokyo")

    edit_link(page, "Seoul notifies Tokyo", "Delete").click()
    confirmation = page.locator(".panel", has_text="Delete this step?")
    confirmation.wait_for()
    assert notice.count() == 1, "nothing is deleted before the confirmation"
    assert "2 citations go with it" in confirmation.inner_text()
    confirmation.get_by_role("button", name="Delete").click()

    expect(notice).to_have_count(0)
    expect(page.locator(BADGE)).to_have_text("In force")
    expect(confirmation).to_have_count(0)
    assert gsomia.events.count() == GSOMIA_EVENTS - 1
    assert_not_reloaded(page)
    assert_quiet(page)


def test_an_open_timeline_shows_other_peoples_changes_and_keeps_a_half_typed_form(
    live_server, new_page, make_user, gsomia
):
    editor = new_page(make_user("editor"))
    analyst = new_page(make_user("analyst"))
    for page in (editor, analyst):
        page.goto(timeline_url(live_server, gsomia))
        set_marker(page)

    add_step(editor, 0, kind="legal-review", date="2012-06-20", summary="Legislation office reviews the text.")
    analyst.locator(f"{LANES}.lane-a", has_text="Legislation office reviews the text.").wait_for(
        timeout=REFRESH_TIMEOUT_MS
    )
    assert analyst.locator(LANES).count() == GSOMIA_EVENTS + 1

    # The editor starts another step and is interrupted; meanwhile someone else records one.
    editor.locator("a.add-step").nth(1).click()
    summary = editor.locator("#editor [name=summary]")
    summary.wait_for()
    editor.evaluate("document.querySelector('#event-form-panel form').__untouched = true")
    summary.fill("Half-typed summary of")
    summary.focus()
    EventFactory(agreement=gsomia, lane="JP", kind="legal-review", date="2012-06-21", summary="Someone else's step.")
    editor.locator(LANES, has_text="Someone else's step.").wait_for(timeout=REFRESH_TIMEOUT_MS)
    time.sleep(3)  # a few more polls

    assert summary.input_value() == "Half-typed summary of"
    assert editor.evaluate("document.querySelector('#event-form-panel form').__untouched") is True
    assert editor.evaluate("document.activeElement.name") == "summary"
    analyst.locator(LANES, has_text="Someone else's step.").wait_for(timeout=REFRESH_TIMEOUT_MS)
    for page in (editor, analyst):
        assert_not_reloaded(page)
        assert_quiet(page)


def test_an_analyst_sees_no_edit_controls_and_a_forged_post_is_refused(live_server, new_page, make_user, gsomia):
    analyst = new_page(make_user("analyst"))
    analyst.goto(timeline_url(live_server, gsomia))
    assert analyst.locator(LANES).count() == GSOMIA_EVENTS
    assert analyst.locator(".edit-actions").count() == 0
    assert analyst.locator("a.add-step").count() == 0
    assert analyst.get_by_role("link", name="Edit agreement").count() == 0

    new_event_url = f"{live_server.url}/agreements/{gsomia.slug}/events/new/"
    data = {"kind": "signature", "lane": "joint", "status": "occurred", "confidence": "high", "summary": "Forged."}

    def forge(page):
        token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
        return page.request.post(new_event_url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)

    refused = forge(analyst)
    assert refused.status == 403
    assert "CSRF verification failed" not in refused.text(), "refused for the token, not for the role"
    assert gsomia.events.count() == GSOMIA_EVENTS

    # The same request from an editor's page goes through: the 403 above is about the role.
    editor = new_page(make_user("editor"))
    editor.goto(timeline_url(live_server, gsomia))
    assert forge(editor).status == 302
    assert gsomia.events.filter(summary="Forged.").count() == 1
    assert_quiet(analyst)
    assert_quiet(editor)


def test_filters_swap_the_lanes_in_place_push_the_url_and_back_restores(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("analyst"))
    start = timeline_url(live_server, gsomia)
    page.goto(start)
    assert page.locator(BADGE).inner_text() == "In force · termination notice given"
    set_marker(page)

    page.locator(".filter-lane input[value=KR]").check()
    page.wait_for_url(re.compile(r"[?&]lane=KR"))
    expect(page.locator(LANES)).to_have_count(2)
    assert page.locator(f"{LANES}:not(.lane-a)").count() == 0
    lane_url = page.url

    # A change elsewhere refreshes the filtered lanes, still filtered.
    EventFactory(agreement=gsomia, lane="JP", kind="legal-review", date="2012-06-21", summary="Tokyo reviews.")
    EventFactory(agreement=gsomia, lane="KR", kind="legal-review", date="2012-06-21", summary="Seoul reviews.")
    page.locator(LANES, has_text="Seoul reviews.").wait_for(timeout=REFRESH_TIMEOUT_MS)
    assert page.locator(LANES, has_text="Tokyo reviews.").count() == 0
    assert page.locator(f"{LANES}:not(.lane-a)").count() == 0
    assert page.url == lane_url

    page.fill("#id_as_of", "2012-07-01")
    page.wait_for_url(re.compile(r"[?&]as_of=2012-07-01"))
    expect(page.locator(BADGE)).to_have_text("Negotiating")
    assert "lane=KR" in page.url
    assert page.locator(LANES).count() == 2  # Seoul's cabinet and review, before 1 July 2012
    assert "as of 1 July 2012" in page.locator("#live-header h1").inner_text()
    as_of_url, as_of_ids = page.url, shown_event_ids(page)
    assert_not_reloaded(page)

    page.go_back()
    page.wait_for_url(lane_url)
    expect(page.locator(BADGE)).to_have_text("In force · termination notice given")
    assert page.locator(LANES).count() == 3
    assert page.locator(".filter-lane input[value=KR]").is_checked()
    assert page.locator("#id_as_of").input_value() == ""

    page.go_back()
    page.wait_for_url(start)
    expect(page.locator(LANES)).to_have_count(GSOMIA_EVENTS + 2)
    assert not page.locator(".filter-lane input[value=KR]").is_checked()
    assert page.locator(BADGE).inner_text() == "In force · termination notice given"

    # The pushed address, loaded directly, renders the same page.
    page.goto(as_of_url)
    assert shown_event_ids(page) == as_of_ids
    assert page.locator(BADGE).inner_text() == "Negotiating"
    assert page.locator(".filter-lane input[value=KR]").is_checked()
    assert page.locator("#id_as_of").input_value() == "2012-07-01"
    assert_quiet(page)


def test_without_javascript_the_timeline_reads_filters_and_takes_a_new_step(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"), java_script_enabled=False)
    page.goto(timeline_url(live_server, gsomia))
    assert page.locator(LANES).count() == GSOMIA_EVENTS
    assert page.locator(f"{LANES} time[datetime]").count() == GSOMIA_EVENTS

    page.locator(".filter-lane input[value=KR]").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"[?&]lane=KR"))
    assert page.locator(LANES).count() == 2

    page.goto(timeline_url(live_server, gsomia))
    page.locator("a.add-step").nth(2).click()
    page.wait_for_url(re.compile(r"/agreements/kr-jp-gsomia/events/new/\?lane=JP$"))
    assert page.locator("select[name=lane]").input_value() == "JP"
    page.select_option("select[name=kind]", "legal-review")
    page.fill("input[name=date]", "2012-06-22")
    page.fill("[name=summary]", "Reviewed without JavaScript.")
    page.get_by_role("button", name="Save").click()

    event = gsomia.events.get(summary="Reviewed without JavaScript.")
    page.wait_for_url(re.compile(rf"/agreements/kr-jp-gsomia/#event-{event.pk}$"))
    assert page.locator(f"li#event-{event.pk}.lane-b").is_visible()
    assert page.locator(LANES).count() == GSOMIA_EVENTS + 1
    assert_quiet(page)


@pytest.mark.parametrize("reader", ["anonymous", "editor"])
def test_axe_finds_no_serious_violation_on_the_timeline(live_server, new_page, make_user, gsomia, settings, reader):
    settings.PACTS_PUBLIC_READ = True
    # axe is injected as an inline script, which the page's CSP (rightly) refuses.
    page = new_page(None if reader == "anonymous" else make_user("editor"), bypass_csp=True)
    page.goto(timeline_url(live_server, gsomia))
    assert page.locator(LANES).count() == GSOMIA_EVENTS
    assert (page.locator(".edit-actions").count() > 0) == (reader == "editor")

    violations = axe_violations(page)

    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['nodes']}" for v in violations)


def test_the_timeline_prints_to_pdf_without_filters_or_edit_controls(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    assert page.locator(".filters").is_visible()
    assert page.locator(".edit-actions").first.is_visible()

    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 10_000

    page.emulate_media(media="print")
    for hidden in (".filters", ".site-header", ".lane-adds", ".live-note"):
        assert not page.locator(hidden).is_visible(), f"{hidden} shows in print"
    assert page.locator(".edit-actions:visible").count() == 0
    assert page.locator(f"{LANES}:visible").count() == GSOMIA_EVENTS
    assert_quiet(page)


def test_print_hides_the_edit_agreement_link(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("editor"))
    page.goto(timeline_url(live_server, gsomia))
    edit_agreement = page.get_by_role("link", name="Edit agreement")
    assert edit_agreement.is_visible()

    page.emulate_media(media="print")

    assert not edit_agreement.is_visible()


def test_events_show_their_status_dispute_and_sourcing(live_server, new_page, make_user, gsomia):
    unsourced = EventFactory(agreement=gsomia, lane="JP", kind="legal-review", date="2012-06-20", summary="Rumoured.")
    page = new_page(make_user("analyst"))
    page.goto(timeline_url(live_server, gsomia))

    def event(summary):
        return page.locator(LANES, has_text=summary)

    def style(locator, selector, prop):
        return locator.locator(selector).first.evaluate(f"(el) => getComputedStyle(el).{prop}")

    expected = event("Japan's cabinet expected")
    assert style(expected, ".card", "borderTopStyle") == "dashed"
    assert expected.locator(".flag-overdue").is_visible()
    postponed = event("Signing in Tokyo called off")
    assert "line-through" in style(postponed, ".summary", "textDecorationLine")
    assert postponed.locator(".flag-postponed").is_visible()
    disputed = event("Seoul notifies Tokyo")
    assert disputed.locator(".flag-disputed").is_visible()
    supports, contradicts = disputed.locator(".claim.supports"), disputed.locator(".claim.contradicts")
    assert supports.bounding_box()["y"] == contradicts.bounding_box()["y"], "competing claims side by side"
    assert supports.bounding_box()["x"] < contradicts.bounding_box()["x"]
    assert event("Rumoured.").locator(".flag-unsourced").is_visible()
    assert page.locator(f"li#event-{unsourced.pk} a.permalink").get_attribute("href") == f"#event-{unsourced.pk}"
    assert_quiet(page)


def test_lanes_stack_on_a_phone_with_a_lane_label_on_each_event(live_server, new_page, make_user, gsomia):
    page = new_page(make_user("analyst"), viewport={"width": 390, "height": 844})
    page.goto(timeline_url(live_server, gsomia))

    lefts = {
        round(box["x"])
        for box in page.locator(f"{LANES} .card").evaluate_all(
            "cards => cards.map(card => card.getBoundingClientRect().toJSON())"
        )
    }
    assert len(lefts) == 1, f"cards should stack in one column, found left edges at {sorted(lefts)}"
    labels = page.locator(f"{LANES} .lane-label")
    assert labels.count() == GSOMIA_EVENTS
    assert all(label.is_visible() for label in labels.all())
    assert page.locator(f"{LANES}.lane-a .lane-label").first.inner_text() == "South Korea"
    assert page.locator(f"{LANES}.lane-b .lane-label").first.inner_text() == "Japan"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px wide)"
    assert_quiet(page)


@pytest.mark.skipif(
    os.environ.get("PACTS_SCREENSHOTS") != "1", reason="writes docs/screenshots; set PACTS_SCREENSHOTS=1"
)
def test_screenshots_of_the_demo_gsomia_timeline(live_server, new_page, make_user, settings):
    """The demo's GSOMIA at desktop and phone widths, its first screens (header, 2011 and 2012), for the docs."""
    settings.PACTS_REFRESH_SECONDS = 15  # as in production, for the "checks for changes" note
    call_command("load_demo", verbosity=0)
    analyst = make_user("analyst")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, width, height in (("desktop", 1280, 2400), ("mobile", 390, 2600)):
        page = new_page(analyst, viewport={"width": width, "height": 900})
        page.goto(f"{live_server.url}/agreements/kr-jp-gsomia/")
        clip = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=SCREENSHOTS / f"timeline-{name}.png", full_page=True, clip=clip)
        assert_quiet(page)
