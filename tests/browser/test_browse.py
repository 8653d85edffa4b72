"""The browse pages in a real browser: the live-filtered list, Korean and Japanese search, a party, the network.

The nine agreements come from the demo (`load_demo`). Every flow ends by checking that
the page logged no console error, threw nothing and broke no Content-Security-Policy
rule (see `watch.py`); the accessibility checks inject axe-core and so bypass the CSP.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from pacts.models import Agreement, Alias, Event, Party
from tests.browser.watch import assert_quiet, axe_violations, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#results table.agreement-list tbody tr"
NAMES = f"{ROWS} a.agreement-name"
GSOMIA = "Korea–Japan GSOMIA"
DEMO_AGREEMENTS = 9


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    assert Agreement.objects.count() == DEMO_AGREEMENTS


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in contexts of their own, signed in as `user` if given."""
    opened = []

    def new_page(user=None, **context_options):
        page = open_page(browser, **context_options)
        page.set_default_timeout(10_000)
        opened.append(page)
        if user is not None:
            sign_in(page, live_server, user)
        return page

    yield new_page
    for page in opened:
        page.context.close()


def set_marker(page):
    """A value that survives in-place swaps and dies with a full page load."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == 1, "the page was reloaded instead of updated in place"


def shown_names(page):
    return page.locator(NAMES).all_inner_texts()


def short_names(**filters):
    return sorted(Agreement.objects.filter(**filters).values_list("short_name", flat=True))


def test_invalid_filters_load_the_page_that_shows_the_error_by_its_field(live_server, new_page, make_user, demo):
    page = new_page(make_user("analyst"))
    page.goto(f"{live_server.url}/agreements/")
    page.fill("#id_year_from", "2020")
    page.fill("#id_year_to", "2010")
    page.locator("#id_year_to").dispatch_event("change")
    page.wait_for_url(re.compile(r"year_to=2010"))
    expect(page.locator(".field-years .errors")).to_contain_text("cannot be before")
    assert page.locator("#id_year_from").input_value() == "2020"
    assert_quiet(page, expected_statuses=(400,))


def test_a_filter_updates_the_list_in_place_pushes_the_url_and_back_restores_it(live_server, new_page, make_user, demo):
    page = new_page(make_user("analyst"))
    start = f"{live_server.url}/agreements/"
    page.goto(start)
    everything = shown_names(page)
    assert sorted(everything) == short_names()
    set_marker(page)

    page.locator(".field-kind input[value=intelligence-sharing]").check()
    page.wait_for_url(re.compile(r"[?&]kind=intelligence-sharing(&|$)"))
    expect(page.locator(NAMES)).to_have_count(2)
    assert sorted(shown_names(page)) == short_names(kind="intelligence-sharing")
    assert "2 agreements match" in page.locator("#results .count").inner_text()
    kind_url, kind_names = page.url, shown_names(page)

    page.select_option("#id_party", "KR")
    page.wait_for_url(re.compile(r"[?&]party=KR(&|$)"))
    expect(page.locator(NAMES)).to_have_text([GSOMIA])
    assert "kind=intelligence-sharing" in page.url
    assert_not_reloaded(page)

    page.go_back()
    page.wait_for_url(kind_url)
    expect(page.locator(NAMES)).to_have_count(2)
    assert shown_names(page) == kind_names
    assert page.locator(".field-kind input[value=intelligence-sharing]").is_checked()
    assert page.locator("#id_party").input_value() == ""

    page.go_back()
    page.wait_for_url(start)
    expect(page.locator(NAMES)).to_have_count(DEMO_AGREEMENTS)
    assert shown_names(page) == everything
    assert not page.locator(".field-kind input[value=intelligence-sharing]").is_checked()

    # The pushed address, loaded directly, renders the same rows.
    page.goto(kind_url)
    assert shown_names(page) == kind_names
    assert page.locator(".field-kind input[value=intelligence-sharing]").is_checked()
    assert_quiet(page)


@pytest.mark.parametrize(
    ("substring", "search_box"),
    [("군사정보", "#id_q"), ("軍事情報", "#site-search")],
    ids=["korean-in-the-list-form", "japanese-in-the-header"],
)
def test_a_korean_or_japanese_substring_of_an_alias_finds_gsomia_and_marks_it(
    live_server, new_page, make_user, demo, substring, search_box
):
    gsomia = Agreement.objects.get(slug="kr-jp-gsomia")
    # Written without spaces, so that the substring sits inside a word.
    Alias.objects.create(agreement=gsomia, title="한일군사정보보호협정", language="ko")
    page = new_page(make_user("analyst"))
    page.goto(f"{live_server.url}/agreements/")
    expect(page.locator(NAMES)).to_have_count(DEMO_AGREEMENTS)

    set_marker(page)
    box = page.locator(search_box)
    box.fill(substring)
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q="))
    expect(page.locator(NAMES)).to_have_text([GSOMIA])
    if search_box == "#id_q":
        assert_not_reloaded(page)  # the list's own form searches in place; the header's loads the list
    assert page.locator("#id_q").input_value() == substring

    marks = page.locator(f"{ROWS} .alias mark")
    assert marks.count() >= 1
    assert set(marks.all_inner_texts()) == {substring}
    marked_aliases = page.locator(f"{ROWS} .alias").all_inner_texts()
    assert all(substring in alias for alias in marked_aliases)
    if substring == "군사정보":
        assert "한일군사정보보호협정" in marked_aliases
    else:
        assert "日韓秘密軍事情報保護協定" in marked_aliases
    assert_quiet(page)


def test_a_party_link_in_the_list_opens_the_party_with_its_agreements_counterparts_and_domestic_steps(
    live_server, new_page, make_user, demo
):
    page = new_page(make_user("analyst"))
    page.goto(f"{live_server.url}/agreements/")
    page.locator(ROWS, has_text=GSOMIA).get_by_role("link", name="Japan", exact=True).click()
    page.wait_for_url(f"{live_server.url}/parties/JP/")
    assert page.locator("h1").inner_text() == "Japan JP"

    japan = short_names(party_a="JP") + short_names(party_b="JP")
    agreements = page.locator("section[aria-labelledby=agreements] tbody tr td:first-child")
    assert sorted(agreements.all_inner_texts()) == sorted(japan)
    assert f"{len(japan)} agreements with 4 counterparts" in page.locator(".party-header").inner_text()

    counterparts = page.locator("ul.counterparts li")
    expected = [f"{Party(code=code).name} {count}" for code, count in (("KR", 2), ("AU", 1), ("GB", 1), ("PH", 1))]
    assert [" ".join(text.split()) for text in counterparts.all_inner_texts()] == expected

    # Japan's own lane across its agreements (the demo's ACSA has none), and nobody else's.
    steps = page.locator("ol.party-steps > li")
    japanese_steps = Event.objects.filter(lane="JP")
    assert steps.count() == japanese_steps.count() > 0
    assert set(steps.locator(".step-agreement").all_inner_texts()) == {
        event.agreement.short_name for event in japanese_steps.select_related("agreement")
    }
    assert steps.locator(".step-agreement", has_text=GSOMIA).count() == 5

    # A counterpart leads on to its own page.
    page.locator("ul.counterparts").get_by_role("link", name=Party(code="KR").name).click()
    page.wait_for_url(f"{live_server.url}/parties/KR/")
    assert page.locator("h1").inner_text().endswith(" KR")
    assert_quiet(page)


def test_a_network_edge_leads_to_the_list_of_exactly_the_agreements_between_the_two_parties(
    live_server, new_page, make_user, demo
):
    page = new_page(make_user("analyst"))
    network = f"{live_server.url}/network/"
    page.goto(network)
    row = (
        page.locator("table.network-table tbody tr")
        .filter(has_text="South Korea")
        .filter(has_text="Intelligence sharing")
    )
    expect(row).to_have_count(1)
    row.get_by_role("link", name="1 agreement").click()

    page.wait_for_url(re.compile(r"/agreements/\?party=JP&party=KR&kind=intelligence-sharing$"))
    expect(page.locator(NAMES)).to_have_text([GSOMIA])
    assert page.locator("#id_party option:checked").evaluate_all("options => options.map(o => o.value)") == [
        "JP",
        "KR",
    ]
    assert page.locator(".field-kind input[value=intelligence-sharing]").is_checked()
    table_url = page.url
    assert_quiet(page)

    # The drawn edge links to the same list.
    page.goto(network)
    edge = page.locator('g.edges a[href="/agreements/?party=JP&party=KR&kind=intelligence-sharing"]')
    expect(edge).to_have_count(1)
    # Edges cross one another; a dispatched click reaches this one whatever is drawn on top.
    edge.locator("path").dispatch_event("click")
    page.wait_for_url(table_url)
    expect(page.locator(NAMES)).to_have_text([GSOMIA])

    # Two parties without the kind: every agreement between them, and none of their others.
    page.goto(f"{live_server.url}/agreements/?party=KR&party=JP")
    assert sorted(shown_names(page)) == sorted([GSOMIA, "Korea–Japan ACSA"])
    assert_quiet(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "What is happening"),
        ("/agreements/", "Agreements"),
        ("/agreements/?q=군사정보", "Agreements"),
        ("/network/", "Network"),
        ("/expectations/", None),
        ("/sources/", None),
    ],
)
def test_axe_finds_no_serious_violation_on_the_browse_pages(live_server, new_page, make_user, demo, path, heading):
    # axe is injected as an inline script, which the page's CSP (rightly) refuses.
    page = new_page(make_user("analyst"), bypass_csp=True)
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200
    if heading:
        assert page.locator("h1").inner_text() == heading
    assert_quiet(page)

    violations = axe_violations(page)

    assert violations == [], f"{path}:\n" + "\n".join(f"{v['id']} ({v['impact']}): {v['nodes']}" for v in violations)


def test_no_browse_page_scrolls_sideways_on_a_phone(live_server, new_page, make_user, demo):
    page = new_page(make_user("editor"), viewport={"width": 390, "height": 844})
    wide = {}
    for path in ("/", "/agreements/", "/expectations/", "/worklist/", "/network/", "/sources/", "/parties/JP/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}
    assert_quiet(page)
